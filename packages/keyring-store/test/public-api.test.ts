// The public surface of @latchkey/keyring-store, read from its build (scripts/api-surface.mjs).
// The direct D-Bus reader (secret-service.ts, direct-read.ts) and the SHA-256 (digest.ts) are
// internal: exporting one fails here. Adding a public name means adding it below, on purpose.
import { testPublicApi } from "@latchkey/test-utils";

testPublicApi(new URL("..", import.meta.url), {
  ".": {
    runtime: [
      "DEFAULT_KEYRING_SERVICE",
      "FileCredentialLock",
      "FileTokenStore",
      "KEYRING_BACKENDS",
      "KeyringTokenStore",
      "KeyringUnavailableError",
      "MemoryTokenStore",
      "TOKEN_STORE_KINDS",
      "createCredentialLock",
      "createTokenStore",
      "defaultKeyringEntryLength",
      "defaultStoreDirectory",
      "openKeyringBackend",
      "openKeyringTokenStore",
    ],
    types: [
      "CreateCredentialLockOptions",
      "CreateTokenStoreOptions",
      "CreatedTokenStore",
      "FileCredentialLockOptions",
      "FileTokenStoreOptions",
      "KeyringBackend",
      "KeyringBackendName",
      "KeyringFailureReason",
      "KeyringTokenStoreOptions",
      "KeyringUnavailableErrorOptions",
      "OpenKeyringBackendOptions",
      "OpenKeyringTokenStoreOptions",
      "StoreEnvironment",
      "TokenStoreKind",
    ],
  },
});
