import { describe, expect, it } from "vitest";
import { createFakeAuthorizationServer, startFakeAuthorizationServer } from "../src/index.js";
import { authorizeOk, exchange, refresh } from "./helpers.js";

const ISSUER = "http://127.0.0.1:9999/t";

// Issue 12 point 15: a fault switched on without a count used to be taken again and again within
// one request (`*:delay` looped for ever). Each request now uses at most one of each fault.
describe("faults are finite per request", () => {
  it("S30: token:delay without a count delays each request once, then answers it", async () => {
    const fake = await createFakeAuthorizationServer({
      issuer: ISSUER,
      faults: [{ name: "token:delay", delayMs: 5 }],
    });
    const first = await exchange(fake, await authorizeOk(fake));
    expect(first.response.status).toBe(200);
    const second = await refresh(fake, first.body.refresh_token);
    expect(second.response.status).toBe(200);
    expect(fake.requests.filter((entry) => entry.endpoint === "token")).toMatchObject([
      { status: 200, faults: ["token:delay"] },
      { status: 200, faults: ["token:delay"] },
    ]);
    expect(fake.activeFaults()).toEqual([{ name: "token:delay", delayMs: 5 }]);
  });

  it("S30: with times, a request uses one delay, not all of them", async () => {
    const fake = await createFakeAuthorizationServer({
      issuer: ISSUER,
      faults: [
        { name: "jwks:delay", delayMs: 1, times: 3 },
        { name: "jwks:delay", delayMs: 1 },
      ],
    });
    expect((await fake.fetch(new Request(fake.endpoints.jwks))).status).toBe(200);
    expect(fake.requests.at(-1)?.faults).toEqual(["jwks:delay"]);
    expect(fake.activeFaults()).toEqual([
      { name: "jwks:delay", delayMs: 1, times: 2 },
      { name: "jwks:delay", delayMs: 1 },
    ]);
  });

  it("S30: a delay with a count (`--fault jwks:delay:3:MS`) delays three requests once each, then none", async () => {
    const fake = await createFakeAuthorizationServer({
      issuer: ISSUER,
      faults: [{ name: "jwks:delay", times: 3, delayMs: 1 }],
    });
    for (let index = 0; index < 4; index += 1) {
      expect((await fake.fetch(new Request(fake.endpoints.jwks))).status).toBe(200);
    }
    expect(fake.requests.map((entry) => entry.faults)).toEqual([
      ["jwks:delay"],
      ["jwks:delay"],
      ["jwks:delay"],
      undefined,
    ]);
    expect(fake.activeFaults()).toEqual([]);
  });

  it("S30: over a socket, a jwks:delay without a count answers request after request", async () => {
    await using running = await startFakeAuthorizationServer({
      faults: [{ name: "jwks:delay", delayMs: 2 }],
    });
    for (let index = 0; index < 3; index += 1) {
      expect((await fetch(running.endpoints.jwks)).status).toBe(200);
    }
    expect(running.count("jwks", { status: 200 })).toBe(3);
  });
});
