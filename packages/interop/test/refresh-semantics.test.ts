// Issue 12, points 1–3, against oidc-provider 9 made to behave like the providers that broke
// latchkey in the field, with Koa middleware on its token endpoint:
// 1. a refused refresh token answered with an empty HTTP 400 (instead of `invalid_grant` JSON);
// 2. a refresh answer whose ID token does not verify, after oidc-provider rotated the token;
// 3. a 503 during a proactive refresh while the stored token is still valid.
import { readFileSync } from "node:fs";
import {
  type ClientOptions,
  type Credentials,
  ErrorCode,
  parseStoredCredentials,
  refreshCredentials,
  resolveServer,
  revokeToken,
} from "@latchkey/core";
import type { Provider } from "oidc-provider";
import { afterEach, describe, expect, it } from "vitest";
import {
  credentialsFile,
  killAll,
  latchkey,
  OIDC_BROWSER,
  opArgs,
  snapshot,
  tempDir,
} from "./support/cli.js";
import { PUBLIC_CLIENT_ID, type RunningOidcProvider, startOidcProvider } from "./support/oidc.js";

const BROWSER = ["--browser-command", OIDC_BROWSER];
let op: RunningOidcProvider | undefined;
afterEach(async () => {
  killAll();
  await op?.close();
  op = undefined;
});

type Koa = Parameters<Provider["use"]>[0];
type KoaContext = Parameters<Koa>[0] & {
  oidc?: { params?: { grant_type?: unknown } };
  body: unknown;
  status: number;
  remove(field: string): void;
};

/** Middleware rewriting oidc-provider's answers to refresh requests (`times` of them). */
function onRefresh(times: number, rewrite: (ctx: KoaContext) => void): Koa {
  let left = times;
  return async (ctx, next) => {
    await next();
    const context = ctx as KoaContext;
    if (left > 0 && context.oidc?.params?.grant_type === "refresh_token") {
      left--;
      rewrite(context);
    }
  };
}

/** What a non-compliant provider sends for a dead refresh token: HTTP 400, no body. */
function emptyRefusal(ctx: KoaContext): void {
  if (ctx.status !== 400) return;
  ctx.body = "";
  ctx.remove("Content-Type");
}

const stored = (storeDir: string): Credentials =>
  parseStoredCredentials(readFileSync(credentialsFile(storeDir), "utf8"));

async function login(storeDir: string): Promise<Credentials> {
  const result = await latchkey([
    "login",
    ...opArgs((op as RunningOidcProvider).issuer, storeDir, BROWSER),
  ]);
  expect(result.code, result.stderr).toBe(0);
  return stored(storeDir);
}

const client = (issuer: string): ClientOptions => ({ issuer, clientId: PUBLIC_CLIENT_ID });

describe("oidc-provider answering a dead refresh token with an empty HTTP 400", () => {
  it("refresh exits 3 and drops the refresh token; token then logs in again", async () => {
    op = await startOidcProvider({ middleware: [onRefresh(2, emptyRefusal)] });
    const storeDir = tempDir();
    const before = await login(storeDir);
    const server = await resolveServer(client(op.issuer), { cache: false });
    await revokeToken({
      client: client(op.issuer),
      server,
      token: before.refreshToken as string,
    });

    // In core: the same refusal is INVALID_GRANT, not a retryable SERVER_ERROR.
    await expect(
      refreshCredentials(before, { client: client(op.issuer), server }),
    ).rejects.toMatchObject({
      code: ErrorCode.INVALID_GRANT,
      oauth: undefined,
      message: expect.stringContaining("HTTP 400"),
    });

    const refresh = await latchkey(["refresh", ...opArgs(op.issuer, storeDir, BROWSER)]);
    expect(refresh.code, refresh.stderr).toBe(3);
    const after = stored(storeDir);
    expect(after.refreshToken).toBeUndefined();
    expect(after.accessToken).toBe(before.accessToken);
    const refusals = op.requests.filter((r) => r.path === "/token" && r.status === 400);
    expect(refusals).toHaveLength(2);

    const token = await latchkey([
      "token",
      "--min-validity",
      "86400",
      ...opArgs(op.issuer, storeDir, BROWSER),
    ]);
    expect(token.code, token.stderr).toBe(0);
    const relogged = stored(storeDir);
    expect(token.stdout).toBe(`${relogged.accessToken}\n`);
    expect(relogged.refreshToken).toBeTruthy();
    expect(op.grants("authorization_code")).toBe(2);
  });
});

describe("oidc-provider's refresh answer with an ID token that does not verify", () => {
  it("refresh exits 3 but keeps the rotated refresh token: the next refresh works, the grant survives", async () => {
    const badSignature = onRefresh(1, (ctx) => {
      const body = ctx.body as { id_token?: string };
      if (ctx.status !== 200 || typeof body.id_token !== "string") return;
      const [header, payload, signature] = body.id_token.split(".");
      const flipped = `${signature?.startsWith("A") ? "B" : "A"}${signature?.slice(1)}`;
      ctx.body = { ...body, id_token: `${header}.${payload}.${flipped}` };
    });
    op = await startOidcProvider({ middleware: [badSignature] });
    const storeDir = tempDir();
    const before = await login(storeDir);
    const refused = await latchkey(["refresh", ...opArgs(op.issuer, storeDir, BROWSER)]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/ID token/);
    expect(op.grants("refresh_token")).toBe(1);
    const kept = stored(storeDir);
    expect(kept.refreshToken).not.toBe(before.refreshToken);

    const again = await latchkey(["refresh", ...opArgs(op.issuer, storeDir, BROWSER)]);
    expect(again.code, again.stderr).toBe(0);
    expect(op.grants("refresh_token")).toBe(2);
    expect(op.events.filter((e) => e.name === "grant.error" || e.name === "grant.revoked")).toEqual(
      [],
    );
  });
});

describe("oidc-provider behind a proxy answering 503 during a proactive refresh", () => {
  it("token prints the still-valid token with one warning; refresh exits 5; nothing changes", async () => {
    const unavailable = onRefresh(2, (ctx) => {
      ctx.status = 503;
      ctx.body = "<html><body>Service Unavailable</body></html>";
    });
    op = await startOidcProvider({ accessTokenTtl: 600, middleware: [unavailable] });
    const storeDir = tempDir();
    const before = await login(storeDir);
    const files = snapshot(storeDir);
    const token = await latchkey([
      "token",
      "--min-validity",
      "3600",
      ...opArgs(op.issuer, storeDir, BROWSER),
    ]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toBe(`${before.accessToken}\n`);
    expect(token.stderr.trim().split("\n")).toHaveLength(1);
    expect(token.stderr).toMatch(/^warning: could not refresh .*HTTP 503.*valid until/);
    expect(token.stderr).not.toContain(before.accessToken);
    expect((await latchkey(["refresh", ...opArgs(op.issuer, storeDir, BROWSER)])).code).toBe(5);
    expect(snapshot(storeDir)).toEqual(files);
  });
});
