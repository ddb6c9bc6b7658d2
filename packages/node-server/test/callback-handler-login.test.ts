// A whole login through createCallbackHandler mounted on no socket at all: the fake
// authorization server (@latchkey/testing) is real, the browser's last hop is handed to the
// handler as a Request, and the code is exchanged.
import { beginAuthorization, exchangeCode } from "@latchkey/core";
import { describe, expect, it } from "vitest";
import { createCallbackHandler } from "../src/index.js";
import { addressTheBrowserEndsOn, fakeServer } from "./fixtures.js";

const AUTHORITY = "127.0.0.1:8400";
const redirectUri = `http://${AUTHORITY}/callback`;

function browserGet(address: string): Request {
  return new Request(address, { headers: { Host: new URL(address).host } });
}

describe("createCallbackHandler: a login with no callback socket", () => {
  it("S28: the fake server's redirect, handed to the handler, completes the login and the code is exchanged", async () => {
    const { client, server } = await fakeServer();
    const handler = createCallbackHandler({ redirectUri, endpointName: "the fake server" });
    const { state, authorizationUrl } = await beginAuthorization({ client, server, redirectUri });
    const received = handler.waitForCallback(state);
    const address = await addressTheBrowserEndsOn(authorizationUrl.href, redirectUri);
    // A prefetch of that address does not consume it.
    expect(
      handler(new Request(address, { headers: { Host: AUTHORITY, "Sec-Purpose": "prefetch" } }))
        .status,
    ).toBe(503);
    const callback = handler(browserGet(address));
    expect(callback.status).toBe(303);
    const location = callback.headers.get("location") as string;
    const done = handler(browserGet(new URL(location, address).href));
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Successfully logged into the fake server");
    await handler.resultPageServed();
    const completed = await exchangeCode(await received, { client, server });
    expect(completed.credentials.accessToken).toBeTruthy();
    // The same address again (a reload) is refused and changes nothing.
    expect(handler(browserGet(address)).status).toBe(409);
  });

  it("S15: the callback of another login is a stray request; this login keeps waiting for its own", async () => {
    const { client, server } = await fakeServer();
    const handler = createCallbackHandler({ redirectUri });
    const other = await beginAuthorization({ client, server, redirectUri });
    const mine = await beginAuthorization({ client, server, redirectUri });
    const received = handler.waitForCallback(mine.state);
    const foreign = await addressTheBrowserEndsOn(other.authorizationUrl.href, redirectUri);
    const stray = handler(browserGet(foreign));
    expect(stray.status).toBe(400);
    expect(await stray.text()).toContain("state does not match");
    const address = await addressTheBrowserEndsOn(mine.authorizationUrl.href, redirectUri);
    expect(handler(browserGet(address)).status).toBe(303);
    const completed = await exchangeCode(await received, { client, server });
    expect(completed.credentials.accessToken).toBeTruthy();
  });
});
