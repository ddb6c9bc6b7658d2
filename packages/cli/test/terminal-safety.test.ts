import { rmSync } from "node:fs";
import { PassThrough } from "node:stream";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { createOutput, printable } from "../src/output.js";
import { BROWSER, latchkey, tempDir } from "./helpers.js";

// S54 (issue 12 point 13, issue 13 point 4): a hostile authorization server puts line breaks,
// terminal escapes and bidi or other format characters into `sub`, ID-token claims, `scope` and
// `error_description`. The real bin must print each value on its own line, with the characters
// shown as escapes, so that no fake `Logged in: no` / `Subject: mallory` line can appear.

const SUBJECT = "alice\nLogged in: no\r\u001b[2J";
const CLAIM = "\u202emallory\u2066";
const SCOPE = "openid\u2028Subject: mallory\u200b\u00ad";

/**
 * Any code point that must not reach a terminal raw, except LF (which ends lines and is counted
 * separately): C0, DEL, C1, soft hyphen, bidi, zero-width and other format characters, U+2028/9,
 * U+FEFF and surrogates (no emoji is printed here, so any surrogate would be a lone one).
 */
const RAW =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/;

async function hostileServer(): Promise<{
  idp: RunningFakeAuthorizationServer;
  args: (...extra: string[]) => string[];
}> {
  const idp = await startFakeAuthorizationServer({
    subject: SUBJECT,
    users: { [SUBJECT]: { claims: { name: CLAIM, "x\u202ey": ["\u2067", "\n"] } } },
  });
  onTestFinished(() => idp.close());
  // The token endpoint's scope too.
  idp.use(async (_request, next, info) => {
    const response = await next();
    if (info.endpoint !== "token" || response.status !== 200) return response;
    const body = (await response.json()) as Record<string, unknown>;
    return Response.json({ ...body, scope: SCOPE }, { headers: { "cache-control": "no-store" } });
  });
  const storeDir = tempDir();
  onTestFinished(() => rmSync(storeDir, { recursive: true, force: true }));
  const args = (...extra: string[]): string[] => [
    ...extra,
    "--issuer",
    idp.issuer,
    "--client-id",
    "latchkey",
    "--scope",
    "openid",
    "--store",
    "file",
    "--store-dir",
    storeDir,
  ];
  return { idp, args };
}

const lines = (text: string): string[] => text.split("\n").filter((line) => line !== "");

describe("terminal safety of the real bin against a hostile server", () => {
  it("login and status print each server value on one line, escaped", async () => {
    const { args } = await hostileServer();
    const login = await latchkey(args("login", "--browser-command", BROWSER));
    expect(login.code).toBe(0);
    expect(login.stderr).not.toMatch(RAW);
    const loggedIn = lines(login.stderr).filter((line) => line.startsWith("Logged in"));
    expect(loggedIn).toHaveLength(1);
    expect(loggedIn[0]).toMatch(
      /^Logged in to 127\.0\.0\.1:\d+ as alice\\x0aLogged in: no\\x0d\\x1b\[2J \(profile default, file store\)\.$/,
    );

    const status = await latchkey(args("status"));
    expect(status.code).toBe(0);
    expect(status.stdout).not.toMatch(RAW);
    expect(status.stderr).not.toMatch(RAW);
    const rows = lines(status.stdout);
    expect(rows.map((row) => row.split(":")[0])).toEqual([
      "Profile",
      "Issuer",
      "Client",
      "Store",
      "Logged in",
      "Subject",
      "Expires",
      "Scopes",
      "Refresh token",
      "ID token",
    ]);
    expect(rows.filter((row) => /^Logged in:/.test(row))).toEqual([
      expect.stringMatching(/^Logged in:\s+yes$/),
    ]);
    expect(rows.filter((row) => /^Subject:/.test(row))).toEqual([
      expect.stringMatching(/^Subject:\s+alice\\x0aLogged in: no\\x0d\\x1b\[2J$/),
    ]);
    expect(status.stdout).toMatch(/\nScopes:\s+openid\\u2028Subject: mallory\\u200b\\xad\n/);
    expect(status.stdout).toContain("name=\\u202emallory\\u2066");
    expect(status.stdout).toContain('x\\u202ey=["\\u2067","\\n"]');
    expect(status.stdout).toContain("sub=alice\\x0aLogged in: no\\x0d\\x1b[2J");
  });

  it("a failing refresh prints the server's error_description on the one error line, escaped", async () => {
    const { idp, args } = await hostileServer();
    expect((await latchkey(args("login", "--browser-command", BROWSER))).code).toBe(0);
    idp.once("token", () =>
      Response.json(
        {
          error: "invalid_grant\u202e",
          error_description: "Session ended.\nLogged in: yes\r\u001b]0;pwned\u0007\u2067",
        },
        { status: 400, headers: { "cache-control": "no-store" } },
      ),
    );
    const refresh = await latchkey(args("refresh"));
    expect(refresh.code).toBe(3);
    expect(refresh.stdout).toBe("");
    expect(refresh.stderr).not.toMatch(RAW);
    const errors = lines(refresh.stderr).filter((line) => line.startsWith("error:"));
    expect(errors).toEqual([
      expect.stringContaining(
        "(invalid_grant\\u202e): Session ended.\\x0aLogged in: yes\\x0d\\x1b]0;pwned\\x07\\u2067",
      ),
    ]);
    // The error line and the hint for a refused grant (an unknown `error` in a 400 is one too),
    // nothing else.
    expect(lines(refresh.stderr)).toEqual([...errors, expect.stringMatching(/^hint: /)]);
  });

  it("a login refused by the server's callback prints its error_description escaped, on one line", async () => {
    const { idp, args } = await hostileServer();
    idp.use(async (request, next, info) => {
      if (info.endpoint !== "authorize") return next();
      const query = new URL(request.url).searchParams;
      const back = new URL(query.get("redirect_uri") as string);
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", "No.\nLogged in: yes\u202e\u200d\u0085");
      back.searchParams.set("state", query.get("state") as string);
      back.searchParams.set("iss", idp.issuer);
      return new Response(null, { status: 302, headers: { location: back.href } });
    });
    const login = await latchkey(args("login", "--browser-command", BROWSER));
    expect(login.code).toBe(3);
    expect(login.stderr).not.toMatch(RAW);
    const errors = lines(login.stderr).filter((line) => line.startsWith("error:"));
    expect(errors).toEqual([
      expect.stringContaining("(access_denied): No.\\x0aLogged in: yes\\u202e\\u200d\\x85."),
    ]);
    expect(lines(login.stderr).some((line) => line.startsWith("Logged in"))).toBe(false);
  });
});

describe("the CLI's output", () => {
  function capture(tty: boolean): { out: ReturnType<typeof createOutput>; text: () => string } {
    const stream = Object.assign(new PassThrough(), { isTTY: tty });
    let written = "";
    stream.on("data", (chunk: Buffer) => {
      written += chunk.toString("utf8");
    });
    const out = createOutput({
      stdout: { write: () => true },
      stderr: () => stream,
      env: {},
      verbose: true,
      quiet: false,
    });
    return { out, text: () => written };
  }

  it("escapes every stderr line, keeps the caller's line breaks and its own colours", () => {
    const { out, text } = capture(true);
    const hostile = "a\u001b[2Jb\u202e\u200b\rc";
    out.info(`${hostile}\nsecond line`);
    out.prompt(hostile);
    out.warn(hostile);
    out.error(hostile);
    out.debug(hostile);
    const shown = "a\\x1b[2Jb\\u202e\\u200b\\x0dc";
    const written = text().split("\n");
    expect(written.slice(0, 5)).toEqual([
      shown,
      "second line",
      shown,
      `\u001b[33mwarning:\u001b[0m ${shown}`,
      `\u001b[31merror:\u001b[0m ${shown}`,
    ]);
    expect(written[5]?.startsWith("\u001b[2m[")).toBe(true);
    expect(written[5]?.endsWith(` ms]\u001b[0m ${shown}`)).toBe(true);
    expect(written.slice(6)).toEqual([""]);
  });

  it("printable puts a value on one line", () => {
    expect(printable("alice\nLogged in: no\u2028\u202e")).toBe(
      "alice\\x0aLogged in: no\\u2028\\u202e",
    );
  });
});
