// The public surface of @latchkey/testing, read from its build (scripts/api-surface.mjs): the fake
// server's modules under src/fake/ stay internal; a name exported by mistake fails here. Adding
// a public name means adding it below, on purpose, with its TSDoc.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { publicApi } from "../../../scripts/api-surface.mjs";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("public API", () => {
  it("each entry of the build exports exactly the intended names", async () => {
    expect(await publicApi(packageDir)).toEqual({
      ".": {
        runtime: [
          "UNTRUSTED_AUDIENCE",
          "WRONG_ISSUER_SUFFIX",
          "createFakeAuthorizationServer",
          "defaultFakeClient",
          "fakeFaultCatalogue",
          "followLoginRedirects",
          "generateSelfSignedCertificate",
          "isDroppedConnection",
          "isFakeFaultName",
          "redirectUriMatches",
          "startFakeAuthorizationServer",
          "startHostileServer",
        ],
        types: [
          "FakeAuthorizationServer",
          "FakeAuthorizationServerOptions",
          "FakeClient",
          "FakeDeviceFaultName",
          "FakeEndpoint",
          "FakeEndpoints",
          "FakeFaultInfo",
          "FakeFaultName",
          "FakeFaultSpec",
          "FakeFetchInit",
          "FakeHttpFaultEndpoint",
          "FakeHttpFaultKind",
          "FakeIdTokenFaultName",
          "FakeIssueTokensOptions",
          "FakeMiddleware",
          "FakeMiddlewareInfo",
          "FakeOverride",
          "FakeRequestFilter",
          "FakeRequestLogEntry",
          "FakeRotateKeysOptions",
          "FakeSigningAlg",
          "FakeTlsCredentials",
          "FakeTokenEndpointAuthMethod",
          "FakeTokenResponse",
          "FakeUser",
          "FollowLoginRedirectsOptions",
          "FollowLoginRedirectsResult",
          "HostileExchange",
          "HostileMode",
          "HostileServer",
          "RunningFakeAuthorizationServer",
          "StartFakeAuthorizationServerOptions",
        ],
      },
      "./vitest": {
        runtime: ["fakeAuthorizationServerForTest", "useFakeAuthorizationServer"],
        types: ["FakeAuthorizationServerFixture"],
      },
    });
  });
});
