import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import {
  chmod,
  type FileHandle,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  unlink,
} from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  type CredentialKey,
  type Credentials,
  credentialKeyId,
  ErrorCode,
  parseStoredCredentials,
  type StoredCredentials,
  StoreError,
  type TokenStore,
} from "@latchkey/core/store";
import { randomHex, sha256Hex } from "./digest.js";
import { MAX_RECORD_BYTES, recordKey, serializeForStore } from "./record.js";

/** Options of {@link FileTokenStore}. */
export interface FileTokenStoreOptions {
  /**
   * The directory that holds one file per credential key. Created (mode 0700) on the first
   * write; an existing directory that is group- or world-accessible is tightened to 0700.
   * A relative path is resolved against the current directory.
   */
  directory: string;
}

/** Hooks for tests only; not part of the public API. */
interface FileStoreTestHooks {
  /** Runs after the temporary file is written and synced, before it is renamed over the target. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

const testHooks = new WeakMap<FileTokenStore, FileStoreTestHooks>();

/** @internal Installs test hooks on a store. Not exported from the package. */
export function setFileStoreTestHooks(store: FileTokenStore, hooks: FileStoreTestHooks): void {
  testHooks.set(store, hooks);
}

/** Temporary files older than this are leftovers of a crashed write and are removed. */
const STALE_TEMP_MS = 60_000;

/**
 * A {@link TokenStore} that keeps each credential set in its own file: the announced fallback
 * when the OS keyring is not usable (S38).
 *
 * - The directory is 0700, each file 0600 from its creation (never created wider, then
 *   tightened).
 * - A write goes to a fresh temporary file in the same directory (`O_EXCL`, 0600), is synced,
 *   then renamed over the target and the directory synced: a crash at any point leaves the
 *   previous record intact, and leftover temporary files are never read as credentials.
 * - File names are `credentials-<hash>.json`, from a SHA-256 of the credential key, so issuers,
 *   client ids and profiles live side by side (S18) and no name comes from user input.
 * - A file that cannot be parsed throws a {@link StoreError} `STORE_CORRUPT` naming the file; it
 *   is never replaced silently. I/O failures throw `STORE_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * const store = new FileTokenStore({ directory: defaultStoreDirectory() });
 * await store.set({ issuer, clientId, profile: "default" }, credentials);
 * ```
 */
export class FileTokenStore implements TokenStore {
  /** Always `file`. */
  readonly kind: "file" = "file";
  /** The absolute directory the files are kept in. */
  readonly directory: string;

  constructor(options: FileTokenStoreOptions) {
    if (typeof options?.directory !== "string" || options.directory === "") {
      throw new StoreError(ErrorCode.STORE_UNAVAILABLE, "The file store needs a directory.");
    }
    this.directory = resolve(options.directory);
  }

  /** The path of the file that holds (or would hold) the credentials of a key. */
  filePath(key: CredentialKey): string {
    return join(this.directory, `${fileStem(key)}.json`);
  }

  /**
   * The stored credentials, or `undefined` when there is no file. Throws `STORE_CORRUPT` when
   * the file cannot be parsed (the file is left as it is) and `STORE_UNAVAILABLE` on I/O errors.
   */
  async get(key: CredentialKey): Promise<Credentials | undefined> {
    const path = this.filePath(key);
    let text: string;
    try {
      text = readRecordFile(path);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      if (errorCode(error) === "ENOENT") return undefined;
      throw unavailable(`Could not read the credentials file ${path}`, error);
    }
    try {
      return parseStoredCredentials(text);
    } catch (error) {
      // The cause is not attached: a JSON syntax error quotes the file's contents.
      throw corrupt(path, error instanceof Error ? error.message : "");
    }
  }

  /**
   * Stores the credentials atomically, replacing what was there: a temporary file (0600,
   * `O_EXCL`) is written and synced, then renamed over the target. Throws `STORE_UNAVAILABLE`
   * on I/O errors; the previous record is then still in place.
   */
  async set(key: CredentialKey, credentials: Credentials): Promise<void> {
    const text = serializeForStore(credentials, key);
    await this.#ensureDirectory();
    const path = this.filePath(key);
    const stem = fileStem(key);
    const tempPath = join(this.directory, `.${stem}.${process.pid}-${await randomHex(6)}.tmp`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(tempPath, "wx", 0o600);
      await handle.writeFile(text, "utf8");
      await handle.sync();
      await handle.close();
      handle = undefined;
      await testHooks.get(this)?.beforeRename?.(tempPath);
      await rename(tempPath, path);
    } catch (error) {
      await handle?.close().catch(() => {});
      await unlink(tempPath).catch(() => {});
      throw unavailable(`Could not write the credentials file ${path}`, error);
    }
    await syncDirectory(this.directory);
    await this.#removeStaleTempFiles(stem);
  }

  /** Deletes the file of the key; does nothing when there is none. Throws `STORE_UNAVAILABLE`. */
  async delete(key: CredentialKey): Promise<void> {
    const path = this.filePath(key);
    try {
      await unlink(path);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return;
      throw unavailable(`Could not delete the credentials file ${path}`, error);
    }
    await syncDirectory(this.directory);
    await this.#removeStaleTempFiles(fileStem(key));
  }

  /**
   * Every record in the directory with its key, sorted by file name. A record carries its key
   * (written since the store could list); an older one gets the key of its issuer and client id
   * with the profile `default` when that is the key its file name comes from, and is left out
   * otherwise, as are records that cannot be read back. No directory lists nothing.
   */
  async list(): Promise<StoredCredentials[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return [];
      throw unavailable(`Could not read the credentials directory ${this.directory}`, error);
    }
    const entries: StoredCredentials[] = [];
    for (const name of names.sort()) {
      if (!/^credentials-[0-9a-f]{32}\.json$/.test(name)) continue;
      let text: string;
      let credentials: Credentials;
      try {
        text = readRecordFile(join(this.directory, name));
        credentials = parseStoredCredentials(text);
      } catch {
        continue;
      }
      const { issuer, clientId } = credentials;
      const key = recordKey(text) ?? { issuer, clientId, profile: "default" };
      if (`${fileStem(key)}.json` === name) entries.push({ key, credentials });
    }
    return entries;
  }

  /** Creates the directory 0700, or tightens an existing one that others can access. */
  async #ensureDirectory(): Promise<void> {
    const directory = this.directory;
    try {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const info = await stat(directory);
      if (!info.isDirectory()) {
        throw Object.assign(new Error(`${directory} is not a directory`), {
          code: "ENOTDIR",
        });
      }
      if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
        await chmod(directory, 0o700);
      }
    } catch (error) {
      throw unavailable(
        `Could not prepare the credentials directory ${directory} (mode 0700)`,
        error,
      );
    }
  }

  /** Best effort: removes temporary files of a key left behind by a crashed write. */
  async #removeStaleTempFiles(stem: string): Promise<void> {
    try {
      const prefix = `.${stem}.`;
      const now = Date.now();
      for (const name of await readdir(this.directory)) {
        if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
        const tempPath = join(this.directory, name);
        const info = await stat(tempPath).catch(() => undefined);
        if (info?.isFile() && now - info.mtimeMs > STALE_TEMP_MS)
          await unlink(tempPath).catch(() => {});
      }
    } catch {
      // Leftovers are never read as credentials; failing to tidy them up is not an error.
    }
  }
}

/**
 * Reads a record file in one synchronous pass (open, fstat, read, close). A record is a few
 * KB; four thread-pool round trips for it cost `latchkey token` about 2 ms, the sync calls a
 * few microseconds. Opened non-blocking, so that a FIFO or a device put in its place cannot
 * block the process in a synchronous open that no signal interrupts; anything but a regular
 * file, or a file too large to be a record, is refused before a byte is read.
 */
function readRecordFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = fstatSync(fd);
    // A directory in the way is an I/O problem (STORE_UNAVAILABLE); a FIFO or device is no record.
    if (info.isDirectory()) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
    if (!info.isFile()) throw corrupt(path, "It is not a regular file.");
    const size = info.size;
    if (size > MAX_RECORD_BYTES) throw corrupt(path, "It is far too large for a record.");
    const buffer = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const read = readSync(fd, buffer, filled, size - filled, null);
      if (read === 0) break;
      filled += read;
    }
    return buffer.toString("utf8", 0, filled);
  } finally {
    closeSync(fd);
  }
}

/** @internal `credentials-<first 32 hex digits of SHA-256(credentialKeyId(key))>`. */
export function fileStem(key: CredentialKey): string {
  const hash = sha256Hex(credentialKeyId(key));
  return `credentials-${hash.slice(0, 32)}`;
}

/** Syncs a directory so that a rename or unlink survives a crash. Best effort (not on Windows). */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, "r");
    await handle.sync();
  } catch {
    // Some platforms and file systems cannot sync a directory.
  } finally {
    await handle?.close().catch(() => {});
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

function corrupt(path: string, detail: string): StoreError {
  const reason = detail === "" ? "" : ` ${detail}`;
  return new StoreError(
    ErrorCode.STORE_CORRUPT,
    `The credentials file ${path} cannot be read back.${reason} It was left in place: delete it, or log in again to replace it.`,
  );
}

function unavailable(what: string, cause: unknown): StoreError {
  const code = errorCode(cause);
  return new StoreError(
    ErrorCode.STORE_UNAVAILABLE,
    `${what}${code === undefined ? "" : ` (${code})`}.`,
    {
      cause,
    },
  );
}
