export {
  defaultKeyringEntryLength,
  KEYRING_BACKENDS,
  type KeyringBackend,
  type KeyringBackendName,
  type KeyringFailureReason,
  KeyringUnavailableError,
  type KeyringUnavailableErrorOptions,
  type OpenKeyringBackendOptions,
  openKeyringBackend,
} from "./backend.js";
export {
  type CreatedTokenStore,
  type CreateTokenStoreOptions,
  createTokenStore,
  TOKEN_STORE_KINDS,
  type TokenStoreKind,
} from "./create.js";
export { defaultStoreDirectory, type StoreEnvironment } from "./directory.js";
export { FileTokenStore, type FileTokenStoreOptions } from "./file.js";
export {
  DEFAULT_KEYRING_SERVICE,
  KeyringTokenStore,
  type KeyringTokenStoreOptions,
  type OpenKeyringTokenStoreOptions,
  openKeyringTokenStore,
} from "./keyring.js";
export {
  type CreateCredentialLockOptions,
  createCredentialLock,
  FileCredentialLock,
  type FileCredentialLockOptions,
} from "./lock.js";
export { MemoryTokenStore } from "./memory.js";
