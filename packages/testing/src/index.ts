export {
  type FollowLoginRedirectsOptions,
  type FollowLoginRedirectsResult,
  followLoginRedirects,
} from "./browser.js";
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
  type FakeRequestFilter,
  type FakeRequestLogEntry,
  type FakeTokenEndpointAuthMethod,
} from "./server.js";
