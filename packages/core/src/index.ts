// The whole public API: everything of `@latchkey/core/store` (credentials, the store contract,
// errors: store-shared.ts lists them, once), plus the protocol. Its getAccessToken is the
// store's with the refresh code loaded with the entry: no lazy import, which would make a
// bundler wrap every protocol module in a lazy initializer (about 750 B gzipped).

export { getAccessToken } from "./access-token-eager.js";
export type {
  AuthorizationCodeFlowState,
  AwaitingCallbackState,
  BeganAuthorization,
  BeginAuthorizationOptions,
  CodeReceivedState,
  CompletedState,
  ExchangeCodeOptions,
  FailedState,
} from "./authorization-code.js";
export {
  beginAuthorization,
  exchangeCode,
  isFlowFinished,
} from "./authorization-code.js";
export type { ResolveServerOptions, ServerMetadata } from "./discovery.js";
export { resolveServer } from "./discovery.js";
export type {
  DeviceAuthorization,
  GrantOptions,
  PollDeviceOptions,
  RevocationOutcome,
  RevokeCredentialsOptions,
  RevokeOptions,
  TokenExchangeOptions,
} from "./grants.js";
export {
  clientCredentialsGrant,
  exchangeToken,
  pollDeviceAuthorization,
  revokeCredentials,
  revokeToken,
  startDeviceAuthorization,
} from "./grants.js";
export type { CallbackVerdict } from "./receive-callback.js";
export { receiveCallback } from "./receive-callback.js";
export type { AuthorizedFetchOptions, UserInfoOptions } from "./resource.js";
export { createAuthorizedFetch, fetchUserInfo } from "./resource.js";
export * from "./store-shared.js";
export type { RefreshOptions } from "./tokens.js";
export { refreshCredentials } from "./tokens.js";
