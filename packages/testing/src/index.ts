export {
  type FollowLoginRedirectsOptions,
  type FollowLoginRedirectsResult,
  followLoginRedirects,
} from "./browser.js";
export {
  type FakeDeviceFaultName,
  type FakeFaultInfo,
  type FakeFaultName,
  type FakeFaultSpec,
  type FakeHttpFaultEndpoint,
  type FakeHttpFaultKind,
  type FakeIdTokenFaultName,
  fakeFaultCatalogue,
  isFakeFaultName,
  UNTRUSTED_AUDIENCE,
  WRONG_ISSUER_SUFFIX,
} from "./faults.js";
export {
  type HostileExchange,
  type HostileMode,
  type HostileServer,
  startHostileServer,
} from "./hostile.js";
export type { FakeIssueTokensOptions, FakeTokenResponse } from "./issue-tokens.js";
export {
  type RunningFakeAuthorizationServer,
  type StartFakeAuthorizationServerOptions,
  startFakeAuthorizationServer,
} from "./listener.js";
export { redirectUriMatches } from "./redirect-uri.js";
export {
  createFakeAuthorizationServer,
  defaultFakeClient,
  type FakeAuthorizationServer,
  type FakeAuthorizationServerOptions,
  type FakeClient,
  type FakeEndpoint,
  type FakeEndpoints,
  type FakeFetchInit,
  type FakeMiddleware,
  type FakeMiddlewareInfo,
  type FakeOverride,
  type FakeRequestFilter,
  type FakeRequestLogEntry,
  type FakeRotateKeysOptions,
  type FakeSigningAlg,
  type FakeTokenEndpointAuthMethod,
  type FakeUser,
  isDroppedConnection,
} from "./server.js";
export { type FakeTlsCredentials, generateSelfSignedCertificate } from "./tls.js";
