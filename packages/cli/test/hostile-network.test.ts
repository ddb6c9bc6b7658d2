// Issue 13, points 1 and 8, through the real `latchkey` bin: a token endpoint that stalls after
// its headers or trickles, and a discovery document far over the size cap, end with exit 5
// within --timeout, the store untouched.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type HostileServer,
  type RunningFakeAuthorizationServer,
  startHostileServer,
} from "@latchkey/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BROWSER, cliArgs, fakeAuthorizationServerForTest, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer;
let hostile: HostileServer;
let storeDir: string;
beforeEach(async () => {
  idp = await fakeAuthorizationServerForTest({ accessTokenTtlSeconds: 600 });
  hostile = await startHostileServer();
  storeDir = tempDir();
});
afterEach(async () => {
  await hostile.close();
});

function common(extra: string[] = []): string[] {
  return cliArgs({ issuer: idp.issuer, storeDir }, ["--browser-command", BROWSER, ...extra]);
}

/** The credential files of the store, name → bytes. */
function storeFiles(): Record<string, string> {
  const names = readdirSync(storeDir).filter((name) => name.endsWith(".json"));
  return Object.fromEntries(
    names.map((name) => [name, readFileSync(join(storeDir, name), "utf8")]),
  );
}

/** Logs in with a token response that says `expires_in: 0`, so `token` must refresh. */
async function loginExpired(): Promise<void> {
  const remove = idp.use(async (_request, next, { endpoint }) => {
    const response = await next();
    if (endpoint !== "token" || response.status !== 200) return response;
    return Response.json({ ...(await response.json()), expires_in: 0 });
  });
  const result = await latchkey(["login", ...common(["--scope", "openid"])]);
  remove();
  expect(result.code, result.stderr).toBe(0);
}

/** From now on the discovery document sends the token endpoint to the hostile server. */
function hostileTokenEndpoint(): void {
  idp.use(async (_request, next, { endpoint }) => {
    const response = await next();
    if (endpoint !== "discovery" || response.status !== 200) return response;
    return Response.json({ ...(await response.json()), token_endpoint: `${hostile.url}/token` });
  });
}

describe("point 1: a token endpoint that stalls or trickles", () => {
  for (const mode of [{ kind: "stall" }, { kind: "trickle", intervalMs: 50 }] as const) {
    it(`${mode.kind}: \`token\` exits 5 within --timeout, the store byte-identical`, async () => {
      await loginExpired();
      const before = storeFiles();
      hostile.route("/token", mode);
      hostileTokenEndpoint();
      const result = await latchkey(["token", ...common(["--timeout", "1"])]);
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).toContain(`${hostile.url}/token did not answer within 1 s.`);
      expect(result.stdout).toBe("");
      expect(storeFiles()).toEqual(before);
      const exchange = await hostile.exchange("/token");
      expect(exchange.method).toBe("POST");
      expect(exchange.ended).toBe(false);
      // The process is gone, and the connection with it.
      await exchange.closed;
    });
  }
});

describe("point 8: a response far over the size cap", () => {
  it("a 50 MB discovery document: `login` exits 5 before any browser, the download cut short", async () => {
    hostile.route("/.well-known/openid-configuration", {
      kind: "huge",
      bytes: 50 * 1024 * 1024,
      json: { issuer: hostile.url },
    });
    const result = await latchkey([
      "login",
      ...common(["--issuer", hostile.url, "--timeout", "30"]),
    ]);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain("sent over 1 MB");
    const exchange = await hostile.exchange("/.well-known/openid-configuration");
    await exchange.closed;
    expect(exchange.written).toBeLessThan(exchange.total / 2);
  });

  it("a gzip-bombed token response: `token` exits 5, the store byte-identical", async () => {
    await loginExpired();
    const before = storeFiles();
    hostile.route("/token", { kind: "gzip-bomb", json: { access_token: "x" } });
    hostileTokenEndpoint();
    const result = await latchkey(["token", ...common(["--timeout", "30"])]);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain(`${hostile.url}/token sent over 1 MB.`);
    expect(storeFiles()).toEqual(before);
  });
});
