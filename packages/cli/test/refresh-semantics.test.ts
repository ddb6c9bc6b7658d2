// Issue 12, points 1–3, through the real `latchkey` bin against the fake server on a socket:
// a refused refresh token, a refused refresh answer after rotation, a transient refresh failure.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Credentials } from "@latchkey/core";
import type { FakeFaultName, RunningFakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import { BROWSER, cliArgs, fakeAuthorizationServerForTest, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer;
let storeDir: string;
beforeEach(async () => {
  idp = await fakeAuthorizationServerForTest({ accessTokenTtlSeconds: 600 });
  storeDir = tempDir();
});

function common(extra: string[] = []): string[] {
  return cliArgs({ issuer: idp.issuer, storeDir }, ["--browser-command", BROWSER, ...extra]);
}

/** The credential files of the store, name → bytes (lock files left out). */
function storeFiles(): Record<string, string> {
  const names = readdirSync(storeDir).filter((name) => name.endsWith(".json"));
  return Object.fromEntries(
    names.map((name) => [name, readFileSync(join(storeDir, name), "utf8")]),
  );
}

function stored(): Credentials {
  const files = Object.values(storeFiles());
  expect(files).toHaveLength(1);
  return JSON.parse(files[0] as string) as Credentials;
}

/** Logs in; with `expired`, the token response says `expires_in: 0`. */
async function login(expired = false): Promise<Credentials> {
  const remove = expired
    ? idp.use(async (_request, next, { endpoint }) => {
        const response = await next();
        if (endpoint !== "token" || response.status !== 200) return response;
        return Response.json({ ...(await response.json()), expires_in: 0 });
      })
    : () => {};
  const result = await latchkey(["login", ...common(["--scope", "openid"])]);
  remove();
  expect(result.code, result.stderr).toBe(0);
  return stored();
}

function expectNoSecret(text: string, credentials: Credentials): void {
  expect(text).not.toContain(credentials.accessToken);
  expect(text).not.toContain(credentials.refreshToken as string);
  expect(text).not.toMatch(/eyJ/);
}

describe("point 1: a 400/401 without an OAuth body is a refused refresh token", () => {
  const REFUSALS: FakeFaultName[] = ["token:400-empty", "token:401-empty", "token:400-html"];
  for (const fault of REFUSALS) {
    it(`${fault}: refresh exits 3; the refresh token is dropped, the access token kept`, async () => {
      const before = await login();
      idp.setFault(fault, { times: 1 });
      const result = await latchkey(["refresh", ...common()]);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toContain("latchkey login");
      expectNoSecret(result.stderr, before);
      const after = stored();
      expect(after.refreshToken).toBeUndefined();
      expect(after.accessToken).toBe(before.accessToken);
      expect((await latchkey(["refresh", ...common()])).code).toBe(4);
      expect(idp.count("token", { grantType: "refresh_token" })).toBe(1);
    });
  }

  it("token with an expired access token and a refused refresh token logs in again", async () => {
    const before = await login(true);
    idp.setFault("token:400-empty", { times: 1 });
    const result = await latchkey(["token", ...common()]);
    expect(result.code, result.stderr).toBe(0);
    const after = stored();
    expect(result.stdout).toBe(`${after.accessToken}\n`);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).toBeTruthy();
    expect(idp.count("authorize")).toBe(2);
  });

  for (const fault of ["token:5xx", "token:html-error", "token:drop"] as const) {
    it(`${fault} stays transient: exit 5 for refresh and an expired token, the store byte-identical`, async () => {
      await login(true);
      const before = storeFiles();
      idp.setFault(fault);
      expect((await latchkey(["refresh", ...common()])).code).toBe(5);
      expect((await latchkey(["token", ...common()])).code).toBe(5);
      expect(storeFiles()).toEqual(before);
      expect(idp.count("authorize")).toBe(1);
    });
  }
});

describe("point 2: a refresh answer refused after rotation keeps the new refresh token", () => {
  for (const fault of ["refresh:id_token-other-sub", "id_token:bad-signature"] as const) {
    it(`${fault}: refresh exits 3, then refresh exits 0; no reuse detected`, async () => {
      const before = await login();
      idp.setFault(fault, { times: 1 });
      const refused = await latchkey(["refresh", ...common()]);
      expect(refused.code, refused.stderr).toBe(3);
      expect(refused.stderr).toMatch(/ID token/);
      const kept = stored();
      expect(kept.refreshToken).not.toBe(before.refreshToken);
      expectNoSecret(refused.stderr, kept);
      const again = await latchkey(["refresh", ...common()]);
      expect(again.code, again.stderr).toBe(0);
      expect(idp.count("token", { grantType: "refresh_token", status: 200 })).toBe(2);
      expect(idp.count("token", { grantType: "refresh_token", status: 400 })).toBe(0);
      const token = await latchkey(["token", "--no-login", ...common()]);
      expect(token.code).toBe(0);
      expect(token.stdout).toBe(`${stored().accessToken}\n`);
    });
  }
});

describe("point 3: a transient failure of a proactive refresh prints the still-valid token", () => {
  it("token --min-validity 3600 with 10 min left and a 503: exit 0, the token, one warning", async () => {
    const before = await login();
    const files = storeFiles();
    idp.setFault("token:5xx");
    const result = await latchkey(["token", "--min-validity", "3600", ...common()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${before.accessToken}\n`);
    const lines = result.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warning: could not refresh \(.*HTTP 503.*\); using the stored token, valid until \d{4}-\d\d-\d\dT/,
    );
    expectNoSecret(result.stderr, before);
    expect(storeFiles()).toEqual(files);
    expect(idp.count("authorize")).toBe(1);
    // refresh (forced) still fails with 5.
    expect((await latchkey(["refresh", ...common()])).code).toBe(5);
  });

  it("with the token expired, the same 503 exits 5", async () => {
    await login(true);
    idp.setFault("token:5xx");
    const result = await latchkey(["token", "--min-validity", "3600", ...common()]);
    expect(result.code).toBe(5);
    expect(result.stdout).toBe("");
  });
});
