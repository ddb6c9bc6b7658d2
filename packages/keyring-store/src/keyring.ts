import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { withTimeout } from "@latchkey/core/async";
import {
  type CredentialKey,
  type Credentials,
  credentialKeyId,
  ErrorCode,
  type StoredCredentials,
  StoreError,
  type TokenStore,
} from "@latchkey/core/store";
import {
  defaultKeyringEntryLength,
  type KeyringBackend,
  type KeyringBackendName,
  keyringError,
  keyringUnavailable,
  openKeyringBackend,
} from "./backend.js";
import {
  type ChunkHeader,
  chunkAccount,
  HEADER_PREFIX,
  headerOf,
  MIN_ENTRY_LENGTH,
  parse,
  parseHeader,
  toAscii,
} from "./chunks.js";
import { randomHex, sha256Hex } from "./digest.js";
import { directReadKeytarBackend } from "./direct-read.js";
import { keyFromId, serializeForStore } from "./record.js";
import { canReadSecretServiceDirectly } from "./secret-service.js";

/** The keyring service name entries are stored under by default. */
export const DEFAULT_KEYRING_SERVICE = "latchkey";

/** Options of {@link KeyringTokenStore}. */
export interface KeyringTokenStoreOptions {
  /** The keyring library, from {@link openKeyringBackend}. */
  backend: KeyringBackend;
  /** The keyring service entries are stored under; default `latchkey`. */
  service?: string;
  /**
   * The longest value one entry may hold, in characters (values are ASCII); longer records are
   * split into chunks (S39). Default: the backend's, else {@link defaultKeyringEntryLength}.
   * At least 256.
   */
  maxEntryLength?: number;
}

/** How often a read starts over when a writer replaced the record while it was read. */
const READ_ATTEMPTS = 3;

// The record `openKeyringTokenStore` read to skip the probe, handed to the first `get` of the same
// key instead of reading the keyring twice in a row (`latchkey token` runs on every kubectl call).
const primedReads = new WeakMap<KeyringTokenStore, { account: string; credentials: Credentials }>();

/**
 * A {@link TokenStore} in the OS keyring (macOS Keychain, Windows Credential Manager, the
 * Secret Service on Linux) through keytar or `@napi-rs/keyring`.
 *
 * - One entry per issuer + client id + profile (account = core's `credentialKeyId`), holding
 *   core's versioned JSON record, so macOS asks once per credential set, not per token.
 * - Records longer than {@link KeyringTokenStore.maxEntryLength} are split into chunk entries
 *   (`<account>#<generation>/<i>`) written first; the main entry then gets a header with the
 *   chunk count, a fresh generation and the SHA-256 of the record: the header is written
 *   last, so a crash leaves the previous record readable. A missing or mismatched chunk reads
 *   as absent, never as truncated data (S39).
 * - Records are ASCII (non-ASCII characters are JSON-escaped), so a length in characters is a
 *   length in bytes (UTF-8) or half of it (UTF-16).
 * - Keyring failures throw a {@link KeyringUnavailableError} (`STORE_UNAVAILABLE`).
 *
 * @example
 * ```ts
 * const store = new KeyringTokenStore({ backend: await openKeyringBackend() });
 * await store.probe(); // throws when the keyring is not usable
 * await store.set(key, credentials);
 * ```
 */

export class KeyringTokenStore implements TokenStore {
  /** Always `keyring`. */
  readonly kind: "keyring" = "keyring";
  /** The keyring library in use. */
  readonly backend: KeyringBackend;
  /** The keyring service entries are stored under. */
  readonly service: string;
  /** The longest value of one entry, in characters. */
  readonly maxEntryLength: number;

  constructor(options: KeyringTokenStoreOptions) {
    if (options?.backend === undefined) {
      throw new StoreError(ErrorCode.STORE_UNAVAILABLE, "The keyring store needs a backend.");
    }
    this.backend = options.backend;
    this.service = options.service ?? DEFAULT_KEYRING_SERVICE;
    const limit =
      options.maxEntryLength ?? options.backend.maxEntryLength ?? defaultKeyringEntryLength();
    if (!Number.isSafeInteger(limit) || limit < MIN_ENTRY_LENGTH) {
      throw new StoreError(
        ErrorCode.STORE_UNAVAILABLE,
        `The keyring entry limit must be an integer of at least ${MIN_ENTRY_LENGTH} characters.`,
      );
    }
    if (this.service === "") {
      throw new StoreError(ErrorCode.STORE_UNAVAILABLE, "The keyring service name is empty.");
    }
    this.maxEntryLength = limit;
  }

  /**
   * Checks that the keyring can be written: writes a probe entry, then deletes it. Never a
   * read, since a keyring that is not unlocked reads as empty. Throws a
   * {@link KeyringUnavailableError} saying why and what to do.
   *
   * @param options.timeoutMs - Give up after this long (`timeout`); default 10 000.
   */
  async probe(options: { timeoutMs?: number } = {}): Promise<void> {
    const account = `latchkey-probe-${process.pid}-${await randomHex(6)}`;
    const attempt = async (): Promise<void> => {
      await this.#call(() => this.backend.setPassword(this.service, account, "probe"));
      await this.#call(() => this.backend.deletePassword(this.service, account));
    };
    await withTimeout(attempt(), options.timeoutMs ?? 10_000, () => keyringUnavailable("timeout"));
  }

  /**
   * The stored credentials, or `undefined` when there are none, or when a chunk of a chunked
   * record is missing or does not match its header. Throws `STORE_CORRUPT` for an entry that
   * is neither a record nor a header, `STORE_UNAVAILABLE` when the keyring fails.
   */
  async get(key: CredentialKey): Promise<Credentials | undefined> {
    const account = credentialKeyId(key);
    const primed = primedReads.get(this);
    primedReads.delete(this);
    if (primed?.account === account) return primed.credentials;
    let previous: string | null = null;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const main = await this.#read(account);
      if (main === null) return undefined;
      if (main === previous) return undefined; // the same header twice: a chunk is really missing
      if (main.startsWith("{")) return parse(main, account);
      const header = parseHeader(main, account);
      const text = await this.#readChunks(account, header);
      if (text !== undefined) return parse(text, account);
      // A writer may have replaced the record while it was read: read the header again.
      previous = main;
    }
    return undefined;
  }

  /**
   * Stores the credentials. A record that fits is one entry; a longer one is written as chunks
   * first and its header last, then the previous record's chunks are deleted. Throws
   * `STORE_UNAVAILABLE` when the keyring fails; the previous record is then still readable.
   */
  async set(key: CredentialKey, credentials: Credentials): Promise<void> {
    primedReads.delete(this);
    const text = toAscii(serializeForStore(credentials));
    const account = credentialKeyId(key);
    const before = await this.#read(account);
    if (text.length <= this.maxEntryLength) {
      await this.#write(account, text);
    } else {
      const size = this.maxEntryLength;
      const count = Math.ceil(text.length / size);
      const generation = await randomHex(8);
      for (let index = 0; index < count; index++) {
        await this.#write(
          chunkAccount(account, generation, index),
          text.slice(index * size, (index + 1) * size),
        );
      }
      await this.#write(account, `${HEADER_PREFIX}${count} ${generation} ${sha256Hex(text)}`);
    }
    await this.#deleteChunksOf(account, before);
  }

  /** Deletes the record (its header first, then its chunks); does nothing when there is none. */
  async delete(key: CredentialKey): Promise<void> {
    primedReads.delete(this);
    const account = credentialKeyId(key);
    const before = await this.#read(account);
    if (before === null) return;
    await this.#call(() => this.backend.deletePassword(this.service, account));
    await this.#deleteChunksOf(account, before);
  }

  /**
   * Every record under the service with its key (an entry's account is core's
   * `credentialKeyId`, so the key is read from it; chunks and probes are skipped). Records that
   * are absent or cannot be read back are left out. Throws `STORE_UNAVAILABLE` when the keyring
   * fails or its library cannot enumerate entries.
   */
  async list(): Promise<StoredCredentials[]> {
    const find = this.backend.findAccounts?.bind(this.backend);
    if (find === undefined)
      throw new StoreError(
        ErrorCode.STORE_UNAVAILABLE,
        `The keyring library ${this.backend.name} cannot list its entries.`,
      );
    const accounts = await this.#call(() => find(this.service));
    const entries: StoredCredentials[] = [];
    for (const account of [...new Set(accounts)].sort()) {
      const key = account.includes("#") ? undefined : keyFromId(account);
      if (key === undefined) continue;
      const credentials = await this.get(key).catch((error: unknown) => {
        if (error instanceof StoreError && error.code === ErrorCode.STORE_CORRUPT) return undefined;
        throw error;
      });
      if (credentials) entries.push({ key, credentials });
    }
    return entries;
  }

  async #readChunks(account: string, header: ChunkHeader): Promise<string | undefined> {
    const parts: string[] = [];
    for (let index = 0; index < header.count; index++) {
      const part = await this.#read(chunkAccount(account, header.generation, index));
      if (part === null || part === "" || part.length > this.maxEntryLength) return undefined;
      parts.push(part);
    }
    const text = parts.join("");
    return sha256Hex(text) === header.digest ? text : undefined;
  }

  /** Deletes the chunks a previous main entry pointed to (best effort: orphans are harmless). */
  async #deleteChunksOf(account: string, main: string | null): Promise<void> {
    const header = main === null ? undefined : headerOf(main);
    if (header === undefined) return;
    const { count, generation } = header;
    for (let index = 0; index < count; index++) {
      try {
        await this.backend.deletePassword(this.service, chunkAccount(account, generation, index));
      } catch {
        // An orphaned chunk is never read: only a header names chunks, by a fresh generation.
      }
    }
  }

  #read(account: string): Promise<string | null> {
    return this.#call(() => this.backend.getPassword(this.service, account));
  }

  async #write(account: string, value: string): Promise<void> {
    await this.#call(() => this.backend.setPassword(this.service, account, value));
  }

  async #call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw keyringError(error, this.backend.name);
    }
  }
}

/** Options of {@link openKeyringTokenStore}. */
export interface OpenKeyringTokenStoreOptions {
  /** The library to use; default keytar, else `@napi-rs/keyring`. Or a backend object. */
  backend?: KeyringBackendName | KeyringBackend;
  /** The keyring service name; default `latchkey`. */
  service?: string;
  /** See {@link KeyringTokenStoreOptions.maxEntryLength}. */
  maxEntryLength?: number;
  /** Give up on the probe after this long; default 10 000 ms. */
  probeTimeoutMs?: number;
  /**
   * The credentials about to be read. When a complete record is stored under this key, the
   * keyring evidently works (the record was written there), so the write-then-delete probe is
   * skipped: two D-Bus round trips less on every `latchkey token`. Finding nothing proves
   * nothing (a keyring that is not unlocked reads as empty), so then the probe runs as usual.
   */
  skipProbeIfStored?: CredentialKey;
  /**
   * The environment: `DBUS_SESSION_BUS_ADDRESS` lets keytar's entries be read over D-Bus
   * directly, without loading libsecret (see `directReads`). Default `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Read keytar's entries over D-Bus directly when possible (default `true`). Those reads use
   * the Secret Service's `plain` session: the secret crosses the user's session bus in the
   * clear, where another process of the same user could watch it with a bus monitor (the same
   * process could also just ask the Secret Service for it). `false` keeps every read in
   * libsecret, whose session is encrypted, at the cost of loading it (about 25 ms, 6 MiB).
   */
  directReads?: boolean;
}

/**
 * Loads a keyring library and probes the keyring (a write, then a delete): resolves to a
 * usable {@link KeyringTokenStore}, or throws a {@link KeyringUnavailableError}
 * (`STORE_UNAVAILABLE`) whose `reason` and message say why and what to do.
 *
 * @example
 * ```ts
 * const store = await openKeyringTokenStore();
 * ```
 */
export async function openKeyringTokenStore(
  options: OpenKeyringTokenStoreOptions = {},
): Promise<KeyringTokenStore> {
  let backend: KeyringBackend;
  if (typeof options.backend === "object") {
    backend = options.backend;
  } else {
    const named = options.backend === undefined ? {} : { backend: options.backend };
    backend = directReadable(options)
      ? directReadKeytarBackend({
          ...(options.env === undefined ? {} : { env: options.env }),
          load: () => openKeyringBackend(named),
        })
      : await openKeyringBackend(named);
  }
  const storeOptions: KeyringTokenStoreOptions = { backend };
  if (options.service !== undefined) storeOptions.service = options.service;
  if (options.maxEntryLength !== undefined) storeOptions.maxEntryLength = options.maxEntryLength;
  const store = new KeyringTokenStore(storeOptions);
  const probeOptions =
    options.probeTimeoutMs === undefined ? {} : { timeoutMs: options.probeTimeoutMs };
  if (options.skipProbeIfStored !== undefined) {
    const stored = await readStored(store, options.skipProbeIfStored, probeOptions);
    if (stored !== undefined) {
      primedReads.set(store, {
        account: credentialKeyId(options.skipProbeIfStored),
        credentials: stored,
      });
      return store;
    }
  }
  await store.probe(probeOptions);
  return store;
}

/**
 * Whether keytar's entries may be read over D-Bus directly: keytar is the library that would be
 * loaded (named, or installed and first in line) and the session bus is a unix socket.
 */
function directReadable(options: OpenKeyringTokenStoreOptions): boolean {
  if (options.directReads === false) return false;
  if (options.backend !== undefined && options.backend !== "keytar") return false;
  if (!canReadSecretServiceDirectly(options.env === undefined ? {} : { env: options.env })) {
    return false;
  }
  return keytarInstalled();
}

/**
 * Whether a `node_modules/keytar` is visible from here, the way Node looks for it: a walk up the
 * directories, a few `existsSync` calls. (`require.resolve` answers the same in about 3 ms,
 * most of a cold start's budget.) Wrong only in exotic setups (NODE_PATH); then keytar fails
 * to load on first write, another library is used, and direct reads stop.
 */
function keytarInstalled(): boolean {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, "node_modules", "keytar", "package.json"))) return true;
    const parent = dirname(directory);
    if (parent === directory) return false;
    directory = parent;
  }
}

/** The complete record stored under the key; any failure or delay gives `undefined`. */
async function readStored(
  store: KeyringTokenStore,
  key: CredentialKey,
  options: { timeoutMs?: number },
): Promise<Credentials | undefined> {
  return withTimeout(store.get(key), options.timeoutMs ?? 10_000, () => new Error("timeout")).catch(
    () => undefined,
  );
}
