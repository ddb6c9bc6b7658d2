// What `@latchkey/core/store` and the main entry both export (each adds its own
// `getAccessToken`): the names are listed here, once.
export type {
  AccessTokenResult,
  CredentialLock,
  CredentialsSource,
  GetAccessTokenOptions,
} from "./access-token.js";
export type { ClientAuthMethod, ClientOptions, FetchLike } from "./config.js";
export type {
  CredentialKey,
  Credentials,
  ExpiryCheckOptions,
  StoredCredentials,
  TokenStore,
} from "./credentials.js";
export {
  authorizationHeader,
  credentialKeyId,
  isExpiring,
  parseStoredCredentials,
  serializeCredentials,
} from "./credentials.js";
export type { LatchkeyErrorOptions, OAuthErrorDetails, ProtocolErrorOptions } from "./errors.js";
export {
  ConfigurationError,
  ErrorCode,
  LatchkeyError,
  LoginRequiredError,
  ProtocolError,
  StoreError,
  TransportError,
} from "./errors.js";
export { decodeJwtClaims } from "./jwt.js";
export { escapeText, redactUrl } from "./redact.js";
