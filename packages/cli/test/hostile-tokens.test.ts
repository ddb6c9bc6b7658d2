import { FileTokenStore } from "@latchkey/keyring-store";
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import { BROWSER, fakeAuthorizationServerForTest, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer;
let storeDir: string;
beforeEach(async () => {
  idp = await fakeAuthorizationServerForTest({});
  storeDir = tempDir();
});

const common = (...extra: string[]): string[] => [
  ...extra,
  "--issuer",
  idp.issuer,
  "--client-id",
  "latchkey",
  "--store",
  "file",
  "--store-dir",
  storeDir,
];

/** Rewrites every successful token response; returns the function that stops it. */
function rewriteTokens(change: Record<string, unknown>): () => void {
  return idp.use(async (_request, next, info) => {
    const response = await next();
    if (info.endpoint !== "token" || response.status !== 200) return response;
    const body = (await response.json()) as Record<string, unknown>;
    return Response.json({ ...body, ...change }, { headers: { "cache-control": "no-store" } });
  });
}

const login = () => latchkey(common("login", "--scope", "openid", "--browser-command", BROWSER));

/** No stack trace, no RangeError, no escape or injected header in anything printed. */
function clean(result: { stdout: string; stderr: string }): void {
  expect(result.stderr).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
  expect(`${result.stdout}${result.stderr}`).not.toMatch(/\u001b|\u0007|X-Injected/);
}

const YEAR = /^(\d{4})-\d\d-\d\dT/;

describe("point 2: a poisoned token response or record (real bin)", () => {
  it("expires_in 1e13: login, status, token --format json|exec-credential and refresh all work", async () => {
    rewriteTokens({ expires_in: 1e13 });
    const first = await login();
    expect(first.code, first.stderr).toBe(0);
    for (const args of [
      ["status"],
      ["status", "--json"],
      ["token", "--format", "json"],
      ["token", "--format", "exec-credential"],
      ["refresh"],
      ["status", "--json"],
    ]) {
      const result = await latchkey(common(...args));
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      clean(result);
    }
    const summary = JSON.parse((await latchkey(common("status", "--json"))).stdout);
    // Clamped to 10 years from the response.
    const year = Number(YEAR.exec(summary.expires_at)?.[1]);
    expect(year).toBeGreaterThan(new Date().getUTCFullYear() + 9);
    expect(year).toBeLessThanOrEqual(new Date().getUTCFullYear() + 10);
  });

  it("a record of an older version with expiresAt 1e300 and a claim nested 20 000 deep still prints", async () => {
    const b64 = (text: string) => Buffer.from(text).toString("base64url");
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const idToken = `${b64('{"alg":"ES256"}')}.${b64(`{"sub":"alice","exp":1e300,"x":${deep}}`)}.c2ln`;
    await new FileTokenStore({ directory: storeDir }).set(
      { issuer: idp.issuer, clientId: "latchkey", profile: "default" },
      {
        accessToken: "stored-access-token",
        tokenType: "Bearer",
        expiresAt: 1e300,
        refreshToken: "stored-refresh-token",
        idToken,
        issuer: idp.issuer,
        clientId: "latchkey",
        obtainedAt: Date.now(),
      },
    );
    const status = await latchkey(common("status"));
    expect(status.code, status.stderr).toBe(0);
    clean(status);
    expect(status.stdout).toMatch(/Expires:\s+9999-12-31T23:59:59\.000Z/);
    const json = await latchkey(common("status", "--json"));
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ expires_at: "9999-12-31T23:59:59.000Z" });
    const formats: [string, RegExp][] = [
      ["json", /"expires_at":"9999-12-31T23:59:59Z"/],
      ["exec-credential", /"expirationTimestamp":"9999-12-31T23:59:59Z"/],
      ["header", /^Authorization: Bearer stored-access-token\n$/],
    ];
    for (const [format, expected] of formats) {
      const result = await latchkey(common("token", "--format", format));
      expect(result.code, `${format}: ${result.stderr}`).toBe(0);
      clean(result);
      expect(result.stdout).toMatch(expected);
    }
    const idTokenJson = await latchkey(common("token", "--id-token", "--format", "json"));
    expect(idTokenJson.code, idTokenJson.stderr).toBe(0);
    // Its claims are too deep to decode: printed without an expiry, never a stack overflow.
    expect(JSON.parse(idTokenJson.stdout)).toEqual({ id_token: idToken });
    expect(idp.requests).toHaveLength(0);
  });

  it("a 100 KB access token: the login fails with exit 3, nothing is stored, the token is never printed", async () => {
    rewriteTokens({ access_token: "A".repeat(100 * 1024) });
    const result = await login();
    expect(result.code).toBe(3);
    clean(result);
    expect(result.stderr).toContain("The token response is invalid (access_token)");
    expect(result.stderr).not.toContain("AAAAAAAA");
    expect((await latchkey(common("status"))).code).toBe(4);
  });

  it("a 2 MB access token: the response is cut at 1 MB (exit 5), nothing is stored or printed", async () => {
    rewriteTokens({ access_token: "A".repeat(2 * 1024 * 1024) });
    const result = await login();
    expect(result.code).toBe(5);
    clean(result);
    expect(result.stderr).toContain("sent over 1 MB");
    expect(result.stderr).not.toContain("AAAAAAAA");
    expect((await latchkey(common("status"))).code).toBe(4);
  });
});

describe("point 3: tokens with escapes or line breaks are refused (real bin)", () => {
  const HOSTILE = ["at\u001b]0;pwned\u0007", "at\u001b[2J", "at\r\n X-Injected: 1"];

  for (const token of HOSTILE) {
    it(`${JSON.stringify(token)}: login and refresh exit 3; --format header prints nothing`, async () => {
      const stop = rewriteTokens({ access_token: token });
      const refused = await login();
      expect(refused.code).toBe(3);
      clean(refused);
      expect(refused.stderr).toContain("The token response is invalid (access_token)");
      stop();

      expect((await login()).code).toBe(0);
      const good = (await latchkey(common("token"))).stdout;
      rewriteTokens({ access_token: token });
      // A minimum validity beyond the token's hour forces the refresh.
      const header = await latchkey(
        common("token", "--format", "header", "--min-validity", "7200", "--no-login"),
      );
      expect(header.code).toBe(3);
      clean(header);
      expect(header.stdout).toBe("");
      // The session goes on: the rotated refresh token was kept, the refused token never stored.
      idp.reset();
      const next = await latchkey(common("token"));
      expect(next.code, next.stderr).toBe(0);
      expect(next.stdout).toMatch(/^[!-~]+\n$/);
      expect(next.stdout).not.toBe(good);
    });
  }

  it("--flow command: a helper printing escapes is refused with exit 3, nothing echoed", async () => {
    const result = await latchkey(
      common(
        "token",
        "--flow",
        "command",
        "--command",
        `${process.execPath} -e "process.stdout.write('tok\\u001b[2J\\r\\nX-Injected: 1')"`,
      ),
    );
    expect(result.code).toBe(3);
    clean(result);
    expect(result.stderr).toContain("not an access token");
    expect(result.stdout).toBe("");
  });
});
