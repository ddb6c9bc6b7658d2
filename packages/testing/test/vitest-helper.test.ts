import { describe, expect, it } from "vitest";
import type { RunningFakeAuthorizationServer } from "../src/index.js";
import { fakeAuthorizationServerForTest, useFakeAuthorizationServer } from "../src/vitest.js";

describe("useFakeAuthorizationServer", () => {
  const idp = useFakeAuthorizationServer({ issuerPath: "/per-file" });
  let first: RunningFakeAuthorizationServer | undefined;

  it("S23: serves one server per file or describe, on loopback", async () => {
    first = idp.server;
    expect(idp.server.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/per-file$/);
    idp.server.setFault("jwks:5xx");
    expect((await fetch(idp.server.endpoints.jwks)).status).toBe(503);
  });

  it("S4: resets faults and the request log between tests", async () => {
    expect(idp.server).toBe(first);
    expect(idp.server.activeFaults()).toEqual([]);
    expect(idp.server.requests).toHaveLength(0);
    expect((await fetch(idp.server.endpoints.jwks)).status).toBe(200);
  });
});

describe("fakeAuthorizationServerForTest", () => {
  let port = 0;
  it("S23: starts a server for one test", async () => {
    const server = await fakeAuthorizationServerForTest();
    port = Number(new URL(server.url).port);
    expect((await fetch(server.endpoints.jwks)).status).toBe(200);
  });

  it("S23: and closes it when that test finishes", async () => {
    await expect(fetch(`http://127.0.0.1:${port}/jwks`)).rejects.toThrow();
  });
});
