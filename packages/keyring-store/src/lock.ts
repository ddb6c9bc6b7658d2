import { type FileHandle, mkdir, open, readFile, stat, unlink, utimes } from "node:fs/promises";
import { hostname as osHostname } from "node:os";
import { basename, join, resolve } from "node:path";
import {
  type CredentialKey,
  type CredentialLock,
  ErrorCode,
  StoreError,
  TransportError,
} from "@latchkey/core/store";
import { randomHex } from "./digest.js";
import { defaultStoreDirectory, type StoreEnvironment } from "./directory.js";
import { fileStem } from "./file.js";
import { lockWait } from "./lock-wait.js";

/** Options of {@link FileCredentialLock}. */
export interface FileCredentialLockOptions {
  /** The directory of the `.lock` files (created 0700 when missing); usually the store's. */
  directory: string;
  /**
   * A lock whose file was not touched for this long is stale and is taken over, whoever holds
   * it (a holder touches its file every third of this). Default 30 000 ms.
   */
  staleMs?: number;
  /** Give up waiting after this long with `STORE_UNAVAILABLE`. Default 300 000 ms. */
  timeoutMs?: number;
  /** The first wait between attempts; it doubles up to {@link maxRetryMs}. Default 10 ms. */
  minRetryMs?: number;
  /** The longest wait between attempts. Default 500 ms. */
  maxRetryMs?: number;
  /**
   * Wake a waiter as soon as the holder releases: the waiter watches the lock directory
   * (`fs.watch`) and retries when the lock file is removed, the back-off staying as the fallback
   * (a watcher can miss events; network file systems have none). `false`: the back-off alone.
   * Default `true`; where `fs.watch` is unavailable or fails, the back-off alone anyway.
   */
  watch?: boolean;
}

/** What a lock file holds (JSON). */
interface LockOwner {
  pid: number;
  hostname: string;
  createdAt: number;
  token: string;
}

/** How long the short-lived lock that guards taking over a stale lock may be held. */
const REAPER_STALE_MS = 10_000;

/**
 * A cross-process lock per credential key: a `.lock` file next to the credentials (S40), for
 * core's `getAccessToken({ lock })`, held around read → expiry check → refresh → persist.
 *
 * - Taking it creates `credentials-<hash>.lock` with `O_CREAT|O_EXCL` (mode 0600) and writes the
 *   owner inside: pid, hostname, creation time and a random token.
 * - Waiting retries with exponential backoff (with jitter) until the lock is free, the
 *   `signal` aborts (`ABORTED`) or `timeoutMs` passes (`STORE_UNAVAILABLE`). A waiter also
 *   watches the directory (`fs.watch`, unless `watch: false`) and retries at once when the lock
 *   file is removed; the watcher is closed however the wait ends.
 * - A holder touches its file every `staleMs / 3`. A lock is stale when its owner is a dead
 *   process on this host, or when its file was not touched for `staleMs` (a crashed holder
 *   on another host, or a reused pid). A stale lock is removed under a second, short-lived
 *   `O_EXCL` lock (`.lock.reap`), after reading it again, so two waiters never both remove it
 *   and never remove a fresh lock: there are never two holders.
 * - Releasing removes the file only when it still holds this owner's token.
 *
 * @example
 * ```ts
 * const lock = new FileCredentialLock({ directory: defaultStoreDirectory() });
 * await getAccessToken({ store, key, client, server, lock });
 * ```
 */
export class FileCredentialLock implements CredentialLock {
  /** The absolute directory of the lock files. */
  readonly directory: string;
  readonly #staleMs: number;
  readonly #timeoutMs: number;
  readonly #minRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #watch: boolean;

  constructor(options: FileCredentialLockOptions) {
    if (typeof options?.directory !== "string" || options.directory === "") {
      throw new StoreError(ErrorCode.STORE_UNAVAILABLE, "The credentials lock needs a directory.");
    }
    this.directory = resolve(options.directory);
    this.#staleMs = positive(options.staleMs, 30_000, "staleMs");
    this.#timeoutMs = positive(options.timeoutMs, 300_000, "timeoutMs");
    this.#minRetryMs = positive(options.minRetryMs, 10, "minRetryMs");
    this.#maxRetryMs = Math.max(this.#minRetryMs, positive(options.maxRetryMs, 500, "maxRetryMs"));
    this.#watch = options.watch !== false;
  }

  /** The path of the lock file of a key. */
  lockPath(key: CredentialKey): string {
    return join(this.directory, `${fileStem(key)}.lock`);
  }

  /**
   * Waits until the lock of the key is held; resolves to the function that releases it.
   * Rejects with `ABORTED` (a `TransportError`) when the signal aborts, with `STORE_UNAVAILABLE`
   * (a `StoreError`) on I/O errors or when `timeoutMs` passes.
   */
  async acquire(
    key: CredentialKey,
    options: { signal?: AbortSignal } = {},
  ): Promise<() => Promise<void>> {
    const { signal } = options;
    const path = this.lockPath(key);
    const started = Date.now();
    let delay = this.#minRetryMs;
    await this.#ensureDirectory();
    const names = [basename(path), `${basename(path)}.reap`];
    const waiting = lockWait(this.directory, names, this.#watch);
    // One token per acquire: an event-driven retry costs one open() (woken waiters all retry).
    const token = await randomHex(16);
    let woken = false;
    try {
      for (;;) {
        throwIfAborted(signal);
        const owner: LockOwner = {
          pid: process.pid,
          hostname: osHostname(),
          createdAt: Date.now(),
          token,
        };
        waiting.reset(); // a release from now on cuts the next wait short
        if (await createExclusive(path, owner)) return this.#held(path, owner);
        // Try again at once after removing a stale lock; wait while someone else removes it.
        // (Checked on the first attempt and after each back-off wait: a woken waiter found a
        // new holder, not a stale one.)
        if (!woken && (await this.#isStale(path)) && (await this.#removeStale(path))) continue;
        if (Date.now() - started >= this.#timeoutMs) {
          const holder = await readOwner(path);
          throw new StoreError(
            ErrorCode.STORE_UNAVAILABLE,
            `Another latchkey process${holder === undefined ? "" : ` (pid ${holder.pid} on ${holder.hostname})`} has held the credentials lock ${path} for more than ${Math.round(this.#timeoutMs / 1000)} s: wait for it to finish, stop it, or delete the lock file if no such process runs.`,
          );
        }
        // The wait rejects only when the signal aborts: say so as a latchkey error.
        woken = await waiting.wait(delay * (0.5 + Math.random()), signal).catch(() => {
          throwIfAborted(signal);
          return false;
        });
        if (!woken) delay = Math.min(delay * 2, this.#maxRetryMs);
      }
    } finally {
      waiting.close();
    }
  }

  /** Starts the heartbeat and returns the release function. */
  #held(path: string, owner: LockOwner): () => Promise<void> {
    const heartbeat = setInterval(
      () => {
        const now = new Date();
        utimes(path, now, now).catch(() => {});
      },
      Math.max(1, Math.floor(this.#staleMs / 3)),
    );
    heartbeat.unref?.();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      const current = await readOwner(path);
      if (current?.token !== owner.token) return; // taken over as stale: not ours any more
      await unlink(path).catch((error: unknown) => {
        if (errorCode(error) !== "ENOENT") {
          throw new StoreError(
            ErrorCode.STORE_UNAVAILABLE,
            `Could not remove the credentials lock ${path}; delete it by hand.`,
            { cause: error },
          );
        }
      });
    };
  }

  /** Whether a lock file is stale: a dead owner on this host, or untouched for `staleMs`. */
  async #isStale(path: string): Promise<boolean> {
    return isStale(path, this.#staleMs);
  }

  /**
   * Removes a stale lock under the reaper lock, after checking again that it is stale. `false`
   * when another process holds the reaper lock (it is removing the stale lock right now).
   */
  async #removeStale(path: string): Promise<boolean> {
    const reaperPath = `${path}.reap`;
    const reaper: LockOwner = {
      pid: process.pid,
      hostname: osHostname(),
      createdAt: Date.now(),
      token: await randomHex(16),
    };
    if (!(await createExclusive(reaperPath, reaper))) {
      // Someone else is removing it; a reaper that crashed is removed in turn.
      if (await isStale(reaperPath, REAPER_STALE_MS)) await unlink(reaperPath).catch(() => {});
      return false;
    }
    try {
      if (await isStale(path, this.#staleMs)) await unlink(path).catch(() => {});
    } finally {
      await unlink(reaperPath).catch(() => {});
    }
    return true;
  }

  async #ensureDirectory(): Promise<void> {
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StoreError(
        ErrorCode.STORE_UNAVAILABLE,
        `Could not create the credentials lock directory ${this.directory}${errorCode(error) === undefined ? "" : ` (${errorCode(error)})`}.`,
        { cause: error },
      );
    }
  }
}

/** Options of {@link createCredentialLock}. */
export interface CreateCredentialLockOptions extends Omit<FileCredentialLockOptions, "directory"> {
  /** The directory of the lock files; default {@link defaultStoreDirectory} (`--store-dir`). */
  directory?: string;
  /** The environment, for the default directory; default `process.env`. */
  env?: StoreEnvironment;
  /** The home directory, for the default directory; default `os.homedir()`. */
  homedir?: string;
}

/**
 * The cross-process lock for {@link getAccessToken}'s `lock` option: a
 * {@link FileCredentialLock} in the store directory (whatever the store kind: the keyring
 * store's locks live there too).
 *
 * @example
 * ```ts
 * const lock = createCredentialLock({ directory: storeDir });
 * const { credentials } = await getAccessToken({ store, key, client, server, lock });
 * ```
 */
export function createCredentialLock(
  options: CreateCredentialLockOptions = {},
): FileCredentialLock {
  const { directory, env, homedir, ...rest } = options;
  return new FileCredentialLock({
    ...rest,
    directory:
      directory !== undefined && directory !== ""
        ? resolve(directory)
        : defaultStoreDirectory(env ?? process.env, homedir),
  });
}

/** Creates a lock file with `O_EXCL`; `false` when it exists. Throws `STORE_UNAVAILABLE` on I/O errors. */
async function createExclusive(path: string, owner: LockOwner): Promise<boolean> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw new StoreError(
      ErrorCode.STORE_UNAVAILABLE,
      `Could not create the credentials lock ${path}${errorCode(error) === undefined ? "" : ` (${errorCode(error)})`}.`,
      { cause: error },
    );
  }
  try {
    await handle.writeFile(JSON.stringify(owner), "utf8");
  } finally {
    await handle.close().catch(() => {});
  }
  return true;
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const raw: unknown = JSON.parse(await readFile(path, "utf8"));
    if (typeof raw !== "object" || raw === null) return undefined;
    const { pid, hostname, createdAt, token } = raw as Record<string, unknown>;
    if (
      typeof pid !== "number" ||
      typeof hostname !== "string" ||
      typeof createdAt !== "number" ||
      typeof token !== "string"
    ) {
      return undefined;
    }
    return { pid, hostname, createdAt, token };
  } catch {
    return undefined; // missing, or being written (empty) right now
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    return false; // gone: the next attempt creates it
  }
  if (Date.now() - mtimeMs > staleMs) return true;
  const owner = await readOwner(path);
  return owner !== undefined && owner.hostname === osHostname() && !isAlive(owner.pid);
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM"; // it exists, owned by another user
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new TransportError(ErrorCode.ABORTED, "Waiting for the credentials lock was cancelled.", {
      cause: signal.reason,
    });
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new StoreError(
      ErrorCode.STORE_UNAVAILABLE,
      `The lock option ${name} must be a positive number.`,
    );
  }
  return value;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
