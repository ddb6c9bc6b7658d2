import {
  type CredentialKey,
  type Credentials,
  credentialKeyId,
  parseStoredCredentials,
  type StoredCredentials,
  type TokenStore,
} from "@latchkey/core/store";
import { keyFromId, serializeForStore } from "./record.js";

/**
 * A {@link TokenStore} that keeps credentials in this process only, for tests, CI and
 * `--store memory`. Records are kept serialized, so what `get` returns is always a fresh copy
 * and goes through the same parsing as the file store.
 *
 * @example
 * ```ts
 * const store = new MemoryTokenStore();
 * await store.set(key, credentials);
 * const again = await store.get(key); // a copy, equal to `credentials`
 * ```
 */
export class MemoryTokenStore implements TokenStore {
  /** Always `memory`. */
  readonly kind: "memory" = "memory";
  readonly #records = new Map<string, string>();

  /** The stored credentials, or `undefined` when there are none. */
  async get(key: CredentialKey): Promise<Credentials | undefined> {
    const text = this.#records.get(credentialKeyId(key));
    return text === undefined ? undefined : parseStoredCredentials(text);
  }

  /** Stores a copy of the credentials, replacing what was there. */
  async set(key: CredentialKey, credentials: Credentials): Promise<void> {
    this.#records.set(credentialKeyId(key), serializeForStore(credentials));
  }

  /** Every stored credential set with its key, in the order they were first stored. */
  async list(): Promise<StoredCredentials[]> {
    const entries: StoredCredentials[] = [];
    for (const [id, text] of this.#records) {
      const key = keyFromId(id);
      if (key) entries.push({ key, credentials: parseStoredCredentials(text) });
    }
    return entries;
  }

  /** Forgets what is stored under the key; does nothing when nothing is. */
  async delete(key: CredentialKey): Promise<void> {
    this.#records.delete(credentialKeyId(key));
  }
}
