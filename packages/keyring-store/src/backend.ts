import { ErrorCode, StoreError } from "@latchkey/core/store";

/**
 * The little a keyring library has to offer for {@link KeyringTokenStore}: a password per
 * service + account. keytar and `@napi-rs/keyring` both fit; tests may pass their own.
 *
 * @example
 * ```ts
 * const backend = await openKeyringBackend(); // keytar, else @napi-rs/keyring
 * await backend.setPassword("latchkey", "account", "value");
 * ```
 */
export interface KeyringBackend {
  /** A short name for messages, e.g. `keytar`. */
  readonly name: string;
  /**
   * The longest value (in characters; values are ASCII) one entry can hold, when the backend
   * knows better than the platform default of {@link defaultKeyringEntryLength}.
   */
  readonly maxEntryLength?: number;
  /** The stored value, or `null` when there is none. */
  getPassword(service: string, account: string): Promise<string | null>;
  /** Stores a value, replacing what was there. */
  setPassword(service: string, account: string, password: string): Promise<void>;
  /** Deletes a value; resolves `false` when there was none. */
  deletePassword(service: string, account: string): Promise<boolean>;
  /** The accounts stored under the service, when the library can enumerate them (optional). */
  findAccounts?(service: string): Promise<string[]>;
}

/** The keyring libraries this package can load (both optional dependencies). */
export type KeyringBackendName = "keytar" | "@napi-rs/keyring";

/** The backends {@link openKeyringBackend} tries, in this order, when none is named. */
export const KEYRING_BACKENDS: readonly KeyringBackendName[] = ["keytar", "@napi-rs/keyring"];

/**
 * Why the OS keyring cannot be used:
 * - `not-installed`: no keyring library could be loaded (both are optional dependencies);
 * - `no-dbus`: there is no D-Bus session bus (`DBUS_SESSION_BUS_ADDRESS` unset, no X11);
 * - `no-secret-service`: D-Bus works but nothing provides `org.freedesktop.secrets`;
 * - `not-unlocked`: the Secret Service runs but has no unlocked default (`login`) keyring;
 * - `locked`: the keyring is locked;
 * - `timeout`: the keyring did not answer in time (waiting for an unlock prompt?);
 * - `failed`: any other failure.
 */
export type KeyringFailureReason =
  | "not-installed"
  | "no-dbus"
  | "no-secret-service"
  | "not-unlocked"
  | "locked"
  | "timeout"
  | "failed";

/** Options of {@link KeyringUnavailableError}. */
export interface KeyringUnavailableErrorOptions {
  /** Why the keyring is unusable. */
  reason: KeyringFailureReason;
  /** The error of the keyring library, if any. */
  cause?: unknown;
}

/**
 * The OS keyring cannot be used: a {@link StoreError} with code `STORE_UNAVAILABLE` whose
 * `reason` says why and whose message says what to do.
 *
 * @example
 * ```ts
 * try { await openKeyringTokenStore(); } catch (e) {
 *   if (e instanceof KeyringUnavailableError && e.reason === "locked") { ... }
 * }
 * ```
 */
export class KeyringUnavailableError extends StoreError {
  /** Why the keyring is unusable. */
  readonly reason: KeyringFailureReason;

  constructor(message: string, options: KeyringUnavailableErrorOptions) {
    super(
      ErrorCode.STORE_UNAVAILABLE,
      message,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.reason = options.reason;
  }
}

const FALLBACK_HINT = "or use --store file";

/** What to tell the user for each reason (one sentence, no secrets). */
const ADVICE: Record<Exclude<KeyringFailureReason, "failed">, string> = {
  "not-installed":
    "no keyring library could be loaded (keytar and @napi-rs/keyring are optional dependencies; keytar builds from source and needs libsecret-1-dev): reinstall with them, " +
    FALLBACK_HINT,
  "no-dbus":
    "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): run inside a desktop session, start one with dbus-run-session, " +
    FALLBACK_HINT,
  "no-secret-service":
    "no Secret Service (gnome-keyring, KWallet, KeePassXC) is running on the D-Bus session: install and start one, " +
    FALLBACK_HINT,
  "not-unlocked":
    "the Secret Service has no unlocked default keyring (login): unlock it, e.g. with gnome-keyring-daemon --unlock, " +
    FALLBACK_HINT,
  locked:
    "the keyring is locked: unlock it (log in to the desktop or use your keyring tool), " +
    FALLBACK_HINT,
  timeout:
    "the keyring did not answer in time (is it waiting for an unlock prompt?): unlock it, " +
    FALLBACK_HINT,
};

/**
 * Turns what a keyring library threw into a {@link KeyringUnavailableError}. keytar's errors have
 * no code, so they are recognised by their text (docs/development.md); `@napi-rs/keyring` wraps the
 * same D-Bus messages.
 */
export function keyringError(error: unknown, backend: string): KeyringUnavailableError {
  if (error instanceof KeyringUnavailableError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const reason = classify(text);
  if (reason === "failed") {
    const detail = text.split("\n")[0]?.slice(0, 200) ?? "";
    return new KeyringUnavailableError(
      `The OS keyring failed (${backend}: ${detail}): check that your keyring works, ${FALLBACK_HINT}.`,
      { reason, cause: error },
    );
  }
  return new KeyringUnavailableError(`The OS keyring cannot be used: ${ADVICE[reason]}.`, {
    reason,
    cause: error,
  });
}

/** The message of an unusable keyring for a reason, without a library error. */
export function keyringUnavailable(
  reason: Exclude<KeyringFailureReason, "failed">,
  cause?: unknown,
): KeyringUnavailableError {
  const options: KeyringUnavailableErrorOptions = { reason };
  if (cause !== undefined) options.cause = cause;
  return new KeyringUnavailableError(`The OS keyring cannot be used: ${ADVICE[reason]}.`, options);
}

function classify(text: string): KeyringFailureReason {
  if (/autolaunch|DBUS_SESSION_BUS_ADDRESS|\$DISPLAY/i.test(text)) return "no-dbus";
  if (/org\.freedesktop\.secrets was not provided|ServiceUnknown/i.test(text)) {
    return "no-secret-service";
  }
  if (/locked collection|is locked|\blocked\b|unlock prompt|prompt was dismissed/i.test(text)) {
    return "locked";
  }
  if (/Object does not exist at path|no result found|NoSuchObject/i.test(text)) {
    return "not-unlocked";
  }
  return "failed";
}

/** Options of {@link openKeyringBackend}. */
export interface OpenKeyringBackendOptions {
  /** Which library to load; default: keytar, else `@napi-rs/keyring`. */
  backend?: KeyringBackendName;
}

/** Loads a module by name; replaced in tests to simulate a missing library. */
type Importer = (specifier: KeyringBackendName) => Promise<unknown>;

/**
 * A plain dynamic import. The specifier is a variable on purpose: the libraries are optional,
 * so neither the compiler nor a bundler may require them to be installed.
 */
const defaultImporter: Importer = (specifier) => {
  const name: string = specifier;
  return import(name);
};

/**
 * Loads a keyring library lazily (dynamic `import`), so that a machine without it still works.
 * It only loads the library: whether the keyring is usable is for
 * {@link KeyringTokenStore.probe} to tell. Throws a {@link KeyringUnavailableError}
 * (`not-installed`) when no library loads.
 *
 * @example
 * ```ts
 * const backend = await openKeyringBackend({ backend: "@napi-rs/keyring" });
 * ```
 */
export async function openKeyringBackend(
  options: OpenKeyringBackendOptions = {},
): Promise<KeyringBackend> {
  return loadBackend(options, defaultImporter);
}

/** @internal {@link openKeyringBackend} with a replaceable importer, for tests. */
export async function loadBackend(
  options: OpenKeyringBackendOptions,
  importer: Importer,
): Promise<KeyringBackend> {
  const names = options.backend === undefined ? KEYRING_BACKENDS : [options.backend];
  const failures: unknown[] = [];
  for (const name of names) {
    try {
      const module = await importer(name);
      return name === "keytar" ? keytarBackend(module) : napiBackend(module);
    } catch (error) {
      failures.push(error);
    }
  }
  throw keyringUnavailable(
    "not-installed",
    failures.length === 1 ? failures[0] : new AggregateError(failures),
  );
}

interface KeytarModule {
  findCredentials?(service: string): Promise<{ account: string }[]>;
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

function moduleExports<T>(module: unknown, member: string): T {
  const candidates = [module, (module as { default?: unknown } | undefined)?.default];
  for (const candidate of candidates) {
    if (
      candidate !== null &&
      (typeof candidate === "object" || typeof candidate === "function") &&
      member in candidate
    ) {
      return candidate as T;
    }
  }
  throw new Error(`The module does not export ${member}.`);
}

function keytarBackend(module: unknown): KeyringBackend {
  const keytar = moduleExports<KeytarModule>(module, "setPassword");
  const name = "keytar";
  return {
    name,
    async getPassword(service, account) {
      try {
        return await keytar.getPassword(service, account);
      } catch (error) {
        throw keyringError(error, name);
      }
    },
    async setPassword(service, account, password) {
      try {
        await keytar.setPassword(service, account, password);
      } catch (error) {
        throw keyringError(error, name);
      }
    },
    async deletePassword(service, account) {
      try {
        return await keytar.deletePassword(service, account);
      } catch (error) {
        throw keyringError(error, name);
      }
    },
    async findAccounts(service) {
      try {
        return (await (keytar.findCredentials?.(service) ?? [])).map((c) => c.account);
      } catch (error) {
        throw keyringError(error, name);
      }
    },
  };
}

interface NapiEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deletePassword(): Promise<boolean>;
}

interface NapiModule {
  findCredentialsAsync?(service: string): Promise<{ account: string }[]>;
  AsyncEntry: new (
    service: string,
    account: string,
    options?: { linux?: { store?: "secret-service" | "keyutils" } },
  ) => NapiEntry;
}

function napiBackend(module: unknown): KeyringBackend {
  const module_ = moduleExports<NapiModule>(module, "AsyncEntry");
  const { AsyncEntry } = module_;
  const name = "@napi-rs/keyring";
  // On Linux it would silently fall back to the kernel keyring, which does not survive a
  // reboot: pin it to the Secret Service so that an unusable keyring is reported instead.
  const entry = (service: string, account: string): NapiEntry =>
    new AsyncEntry(service, account, { linux: { store: "secret-service" } });
  return {
    name,
    async getPassword(service, account) {
      try {
        return await entry(service, account).getPassword();
      } catch (error) {
        throw keyringError(error, name);
      }
    },
    async setPassword(service, account, password) {
      try {
        await entry(service, account).setPassword(password);
      } catch (error) {
        throw keyringError(error, name);
      }
    },
    async deletePassword(service, account) {
      try {
        return await entry(service, account).deletePassword();
      } catch (error) {
        throw keyringError(error, name);
      }
    },
    async findAccounts(service) {
      try {
        const found = (await module_.findCredentialsAsync?.(service)) ?? [];
        return found.map((c) => c.account);
      } catch (error) {
        throw keyringError(error, name);
      }
    },
  };
}

/**
 * The longest value one keyring entry holds by default on a platform, in characters of the
 * ASCII-only values this package writes: Windows 1280 (its 2560-byte credential blobs hold
 * 1280 UTF-16 characters, S39), macOS 2048 (the `security` tool's ≈3 KB, with room to spare),
 * elsewhere (Secret Service) 16384.
 *
 * @example
 * ```ts
 * defaultKeyringEntryLength("win32"); // 1280
 * ```
 */
export function defaultKeyringEntryLength(platform: string = process.platform): number {
  if (platform === "win32") return 1280;
  if (platform === "darwin") return 2048;
  return 16_384;
}

const SUMMARY: Record<Exclude<KeyringFailureReason, "failed">, string> = {
  "not-installed": "no keyring library (keytar or @napi-rs/keyring) could be loaded",
  "no-dbus": "there is no D-Bus session bus",
  "no-secret-service": "no Secret Service runs on the D-Bus session",
  "not-unlocked": "the Secret Service has no unlocked login keyring",
  locked: "the keyring is locked",
  timeout: "the keyring did not answer in time",
};

/** A few words on why the keyring is unusable, for the one-line notice of `auto`. */
export function summarizeKeyringFailure(error: KeyringUnavailableError): string {
  if (error.reason !== "failed") return SUMMARY[error.reason];
  const cause: unknown = error.cause;
  const detail = cause instanceof Error ? (cause.message.split("\n")[0] ?? "") : "";
  return detail === "" ? "the keyring failed" : `the keyring failed: ${detail.slice(0, 120)}`;
}
