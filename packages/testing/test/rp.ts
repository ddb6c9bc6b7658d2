import * as oidc from "openid-client";
import type { FakeAuthorizationServer } from "../src/index.js";
import { REDIRECT_URI } from "./helpers.js";

/** An openid-client configuration talking to `server` in memory (no socket) or over HTTP. */
export async function relyingParty(
  server: FakeAuthorizationServer,
  options: { clientId?: string; clientSecret?: string; inMemory?: boolean } = {},
): Promise<oidc.Configuration> {
  const inMemory = options.inMemory ?? true;
  const config = await oidc.discovery(
    new URL(server.issuer),
    options.clientId ?? "latchkey",
    undefined,
    options.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(options.clientSecret),
    {
      execute: [oidc.allowInsecureRequests],
      ...(inMemory
        ? {
            [oidc.customFetch]: (url: string, init: oidc.CustomFetchOptions) =>
              server.fetch(new Request(url, init as RequestInit)),
          }
        : {}),
    },
  );
  // Over TLS, OIDC Core §3.1.3.7 lets a client skip the ID token signature of a token response;
  // openid-client does unless asked, so ask: the fake's signature faults must be caught.
  oidc.enableNonRepudiationChecks(config);
  return config;
}

/** A whole authorization-code + PKCE login by openid-client; returns the validated tokens. */
export async function rpLogin(
  server: FakeAuthorizationServer,
  config: oidc.Configuration,
  params: Record<string, string> = {},
): Promise<Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>> {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid profile",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    nonce,
    state,
    ...params,
  });
  const response = await server.fetch(new Request(url));
  const location = response.headers.get("location");
  if (location === null) {
    throw new Error(`no redirect: ${response.status}`);
  }
  return oidc.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
}
