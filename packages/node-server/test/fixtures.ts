import { type ClientOptions, resolveServer, type ServerMetadata } from "@latchkey/core";
import { fakeAuthorizationServerForTest } from "@latchkey/test-utils";
import type {
  RunningFakeAuthorizationServer,
  StartFakeAuthorizationServerOptions,
} from "@latchkey/testing";

export interface FakeSetup {
  fake: RunningFakeAuthorizationServer;
  client: ClientOptions;
  server: ServerMetadata;
}

/**
 * A fake authorization server for one test, closed when the test finishes (the fixture of
 * `@latchkey/testing/vitest`), with the client options and metadata of its `latchkey` client.
 */
export async function fakeServer(
  options: StartFakeAuthorizationServerOptions = {},
): Promise<FakeSetup> {
  const fake = await fakeAuthorizationServerForTest(options);
  const client: ClientOptions = { issuer: fake.issuer, clientId: "latchkey", scopes: ["openid"] };
  const server = await resolveServer(client, { cache: false });
  return { fake, client, server };
}

/**
 * Plays the user's browser on a remote machine: follows the authorization server's redirects
 * and stops at the first one to the loopback redirect URI, without loading it (it would fail
 * to load there). Returns that address, which is what the user copies and pastes.
 */
export async function addressTheBrowserEndsOn(
  authorizationUrl: string,
  redirectUri: string,
): Promise<string> {
  const prefix = new URL(redirectUri);
  let current = authorizationUrl;
  for (let hop = 0; hop < 10; hop++) {
    const url = new URL(current);
    if (url.origin === prefix.origin && url.pathname === prefix.pathname) return current;
    const response = await fetch(current, { redirect: "manual" });
    await response.body?.cancel();
    const location = response.headers.get("location");
    if (!location)
      throw new Error(`no redirect from the authorization server (${response.status})`);
    current = new URL(location, current).href;
  }
  throw new Error("too many redirects");
}
