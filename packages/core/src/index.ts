// The whole public API: everything of `@latchkey/core/store` (credentials, the store contract,
// errors, getAccessToken; its names are listed there, once), plus the protocol.

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
export type { AuthorizedFetchOptions, UserInfoOptions } from "./resource.js";
export { createAuthorizedFetch, fetchUserInfo } from "./resource.js";
export * from "./store.js";
export type { RefreshOptions } from "./tokens.js";
export { refreshCredentials } from "./tokens.js";
