import { type KeyringBackend, openKeyringBackend } from "./backend.js";
import { openSecretServiceReader, type SecretServiceReader } from "./secret-service.js";

/** Options of {@link directReadKeytarBackend}. */
export interface DirectReadKeytarBackendOptions {
  /** The environment holding `DBUS_SESSION_BUS_ADDRESS`; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Give up on a direct read after this long (then keytar reads); default 2 000 ms. */
  timeoutMs?: number;
  /** Loads the library for writes, deletes and reads the direct path cannot answer. */
  load?: () => Promise<KeyringBackend>;
}

/**
 * keytar with its reads done over D-Bus directly ({@link openSecretServiceReader}): the same
 * entries, without loading libsecret and GLib when a read is all a process does (`latchkey
 * token`). keytar is loaded on the first write or delete, and for any read the direct path
 * cannot answer (no bus, a locked item, an error, a timeout), so every outcome is keytar's.
 * When the library that loads turns out not to be keytar, direct reads stop: its entries are
 * not keytar's.
 */
export function directReadKeytarBackend(
  options: DirectReadKeytarBackendOptions = {},
): KeyringBackend {
  const load = options.load ?? (() => openKeyringBackend());
  let library: Promise<KeyringBackend> | undefined;
  let reader: Promise<SecretServiceReader | undefined> | undefined;
  let direct = true;
  const loaded = async (): Promise<KeyringBackend> => {
    library ??= load();
    const backend = await library;
    if (backend.name !== "keytar") direct = false;
    return backend;
  };
  const openReader = (): Promise<SecretServiceReader | undefined> => {
    reader ??= openSecretServiceReader({
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    }).catch(() => undefined);
    return reader;
  };
  return {
    name: "keytar",
    async getPassword(service, account) {
      if (direct) {
        const session = await openReader();
        if (session !== undefined && direct) {
          try {
            return await session.read(service, account);
          } catch {
            // Not an answer keytar would agree with for sure: ask keytar.
          }
        }
      }
      return (await loaded()).getPassword(service, account);
    },
    async setPassword(service, account, password) {
      await (await loaded()).setPassword(service, account, password);
    },
    async deletePassword(service, account) {
      return (await loaded()).deletePassword(service, account);
    },
    async findAccounts(service) {
      return (await (await loaded()).findAccounts?.(service)) ?? [];
    },
  };
}
