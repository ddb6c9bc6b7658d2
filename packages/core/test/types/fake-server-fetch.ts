// Type-level test (issue 12 point 14): this file only has to compile (`pnpm typecheck`).
// The fake server's `fetch` is what oauth4webapi's `customFetch` and core's `fetch` take, as is.
import type { FakeAuthorizationServer } from "@latchkey/testing";
import * as oauth from "oauth4webapi";
import type { ClientOptions, FetchLike } from "../../src/index.js";

export async function typesOnly(idp: FakeAuthorizationServer): Promise<void> {
  const asFetch: typeof fetch = idp.fetch;
  const asFetchLike: FetchLike = idp.fetch;
  const client: ClientOptions = { issuer: idp.issuer, clientId: "latchkey", fetch: idp.fetch };
  void asFetch;
  void asFetchLike;
  void client;
  const response = await oauth.discoveryRequest(new URL(idp.issuer), {
    [oauth.customFetch]: idp.fetch,
    [oauth.allowInsecureRequests]: true,
  });
  await oauth.processDiscoveryResponse(new URL(idp.issuer), response);
}
