// Type-level test (issue 12 point 14): this file only has to compile (`pnpm typecheck`).
// `server.fetch` is a drop-in `fetch`, not a `(request: Request) => Promise<Response>` handler.
import * as oidc from "openid-client";
import {
  createFakeAuthorizationServer,
  type FakeAuthorizationServer,
  followLoginRedirects,
  type RunningFakeAuthorizationServer,
} from "../../src/index.js";

export async function typesOnly(
  server: FakeAuthorizationServer,
  running: RunningFakeAuthorizationServer,
): Promise<void> {
  const asFetch: typeof fetch = server.fetch;
  const runningAsFetch: typeof fetch = running.fetch;
  const asCustomFetch: oidc.CustomFetch = server.fetch;
  void asFetch;
  void runningAsFetch;
  void asCustomFetch;

  // The three call shapes of fetch.
  await server.fetch(server.endpoints.jwks);
  await server.fetch(new URL(server.endpoints.token), { method: "POST", body: "grant_type=x" });
  await server.fetch(new Request(server.endpoints.userinfo));

  // openid-client's customFetch, passed as is.
  await oidc.discovery(new URL(server.issuer), "latchkey", undefined, oidc.None(), {
    [oidc.customFetch]: server.fetch,
    execute: [oidc.allowInsecureRequests],
  });

  // The headless browser with the in-memory server.
  const { callbackUrl } = await followLoginRedirects(server.endpoints.authorization, {
    fetch: server.fetch,
  });
  void callbackUrl;

  // @ts-expect-error a fetch takes a URL or a Request, not a number
  await server.fetch(42);
  void createFakeAuthorizationServer;
}
