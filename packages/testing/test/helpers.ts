import { createHash, randomBytes } from "node:crypto";
import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "../src/index.js";

export const REDIRECT_URI = "http://127.0.0.1:49152/callback";

export function newPkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** Sends an authorization request in memory and returns the response. */
export function authorizeRequest(
  server: FakeAuthorizationServer,
  params: Record<string, string | undefined>,
): Promise<Response> {
  const url = new URL(server.endpoints.authorization);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) {
      url.searchParams.append(name, value);
    }
  }
  return server.fetch(new Request(url));
}

export interface Authorized {
  code: string;
  verifier: string;
  redirectUri: string;
  location: URL;
}

/** A successful authorization request; returns the code and the verifier that goes with it. */
export async function authorizeOk(
  server: FakeAuthorizationServer,
  params: Record<string, string | undefined> = {},
): Promise<Authorized> {
  const { verifier, challenge } = newPkce();
  const redirectUri = params.redirect_uri ?? REDIRECT_URI;
  const response = await authorizeRequest(server, {
    response_type: "code",
    client_id: "latchkey",
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st-1",
    ...params,
  });
  if (response.status !== 302) {
    throw new Error(`authorize failed: ${response.status} ${await response.text()}`);
  }
  const location = new URL(response.headers.get("location") ?? "");
  const code = location.searchParams.get("code");
  if (code === null) {
    throw new Error(`no code in ${location.href}`);
  }
  return { code, verifier, redirectUri, location };
}

export function tokenRequest(
  server: FakeAuthorizationServer,
  body: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    if (value !== undefined) {
      form.append(name, value);
    }
  }
  return server.fetch(
    new Request(server.endpoints.token, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: form,
    }),
  );
}

export interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  scope?: string;
  id_token?: string;
  error?: string;
  error_description?: string;
}

export async function exchange(
  server: FakeAuthorizationServer,
  authorized: Authorized,
  extra: Record<string, string | undefined> = {},
): Promise<{ response: Response; body: TokenBody }> {
  const response = await tokenRequest(server, {
    grant_type: "authorization_code",
    code: authorized.code,
    redirect_uri: authorized.redirectUri,
    code_verifier: authorized.verifier,
    client_id: "latchkey",
    ...extra,
  });
  return { response, body: (await response.json()) as TokenBody };
}

export async function refresh(
  server: FakeAuthorizationServer,
  refreshToken: string,
  extra: Record<string, string | undefined> = {},
): Promise<{ response: Response; body: TokenBody }> {
  const response = await tokenRequest(server, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: "latchkey",
    ...extra,
  });
  return { response, body: (await response.json()) as TokenBody };
}

export function basic(id: string, secret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString("base64")}`;
}

export function userinfo(server: FakeAuthorizationServer, accessToken: string): Promise<Response> {
  return server.fetch(
    new Request(server.endpoints.userinfo, { headers: { authorization: `Bearer ${accessToken}` } }),
  );
}

/** A controllable clock: tests advance it instead of sleeping. */
export function clock(start = 1_700_000_000_000): {
  now: () => number;
  advance: (seconds: number) => void;
} {
  let current = start;
  return { now: () => current, advance: (seconds) => (current += seconds * 1000) };
}

/** A form POST to one of the fake server's endpoints, through its in-process `fetch`. */
export function post(
  fake: FakeAuthorizationServer,
  url: string,
  body: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fake.fetch(
    new Request(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(body),
    }),
  );
}

type ServerOptions = Partial<Parameters<typeof createFakeAuthorizationServer>[0]>;

/** A maker of fake servers at `issuer`: `defaults`, then each call's options on top. */
export function serverAt(
  issuer: string,
  defaults: ServerOptions = {},
): (options?: ServerOptions) => Promise<FakeAuthorizationServer> {
  return (options = {}) => createFakeAuthorizationServer({ issuer, ...defaults, ...options });
}
