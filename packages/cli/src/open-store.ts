import type { CredentialKey, Credentials, TokenStore } from "@latchkey/core/store";
import { createTokenStore } from "@latchkey/keyring-store";
import type { Output } from "./output.js";

/** What {@link openStore} needs: the `--store`/`--store-dir` choice and the key about to be read. */
export interface OpenStoreOptions {
  kind: "auto" | "keyring" | "file" | "memory";
  directory: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** The key about to be read: a record found there skips the keyring's write probe. */
  key?: CredentialKey;
}

/**
 * Opens the store the flags choose. The file fallback of `--store auto` is announced when
 * credentials are written there (login, a refresh that stores) or at `-v`, not on every read:
 * `latchkey token` runs on every kubectl call, and a notice each time is noise (S38 still holds,
 * the first write into files says so).
 */
export async function openStore(options: OpenStoreOptions, out: Output): Promise<TokenStore> {
  const storeOptions: Parameters<typeof createTokenStore>[0] = {
    kind: options.kind,
    env: options.env,
  };
  if (options.directory !== undefined) storeOptions.directory = options.directory;
  // A record already in the keyring proves it works: no write-then-delete probe on the hot path.
  if (options.key !== undefined) storeOptions.keyring = { skipProbeIfStored: options.key };
  const { store, notice } = await createTokenStore(storeOptions);
  return notice === undefined ? store : announceWrites(store, notice, out);
}

/** The store, telling `notice` once: at once at `-v`, else after the first successful write. */
export function announceWrites(store: TokenStore, notice: string, out: Output): TokenStore {
  let told = false;
  const tell = (): void => {
    if (told) return;
    told = true;
    out.info(notice);
  };
  if (out.verbose) tell();
  const wrapped: TokenStore = {
    kind: store.kind,
    get: (key) => store.get(key),
    set: async (key: CredentialKey, credentials: Credentials) => {
      await store.set(key, credentials);
      tell();
    },
    delete: (key) => store.delete(key),
  };
  if (store.list) {
    const list = store.list.bind(store);
    wrapped.list = () => list();
  }
  return wrapped;
}
