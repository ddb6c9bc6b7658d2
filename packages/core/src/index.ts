export type {
  AccessTokenResult,
  CredentialLock,
  CredentialsSource,
  GetAccessTokenOptions,
} from "./access-token.js";
export { getAccessToken } from "./access-token.js";
export type {
  AuthorizationCodeFlowState,
  AwaitingCallbackState,
  BeganAuthorization,
  BeginAuthorizationOptions,
  CallbackVerdict,
  CodeReceivedState,
  CompletedState,
  ExchangeCodeOptions,
  FailedState,
} from "./authorization-code.js";
export {
  beginAuthorization,
  exchangeCode,
  isFlowFinished,
  receiveCallback,
} from "./authorization-code.js";
export type { ClientAuthMethod, ClientOptions, FetchLike } from "./config.js";
export { isLoopbackUrl, RESERVED_AUTHORIZATION_PARAMS } from "./config.js";
export type { CredentialKey, Credentials, ExpiryCheckOptions, TokenStore } from "./credentials.js";
export {
  CREDENTIALS_RECORD_VERSION,
  credentialKeyId,
  isExpiring,
  parseStoredCredentials,
  serializeCredentials,
} from "./credentials.js";
export type { ResolveServerOptions, ServerMetadata } from "./discovery.js";
export type {
  DeviceAuthorization,
  GrantOptions,
  PollDeviceOptions,
  RevocationOutcome,
  RevokeOptions,
  TokenExchangeOptions,
} from "./grants.js";
export {
  clientCredentialsGrant,
  exchangeToken,
  pollDeviceAuthorization,
  revokeToken,
  startDeviceAuthorization,
} from "./grants.js";
export { resolveServer } from "./discovery.js";
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
export { sanitizeDescription } from "./http.js";
export { redactUrl } from "./redact.js";
export type { AuthorizedFetchOptions, UserInfoOptions } from "./resource.js";
export { createAuthorizedFetch, fetchUserInfo } from "./resource.js";
export {
  calculateCodeChallenge,
  generateCodeVerifier,
  generateNonce,
  generateState,
} from "./pkce.js";
export type { RefreshOptions, ToCredentialsOptions, TokenResponse } from "./tokens.js";
export { refreshCredentials, TokenResponseSchema, toCredentials } from "./tokens.js";
