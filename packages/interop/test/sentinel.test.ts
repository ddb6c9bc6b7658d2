import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import {
  cleanEnv,
  FOLLOW_BROWSER,
  killAll,
  latchkey,
  type RunResult,
  tempDir,
} from "./support/cli.js";

// S42 sentinel: every command at -v, successes and failures, with secrets the test can
// recognise. A secret may appear only on the stdout of `latchkey token` (the token itself) and
// in the credential store's own file; never on stderr, never on another stdout, never in any
// other file under HOME, the XDG directories, TMPDIR or the store directory.

afterEach(() => killAll());

interface Sandbox {
  root: string;
  storeDir: string;
  env: NodeJS.ProcessEnv;
}

function sandbox(): Sandbox {
  const root = tempDir("latchkey-sentinel-");
  const dirs: Record<string, string> = {};
  for (const name of ["home", "config", "data", "state", "cache", "tmp", "store"]) {
    dirs[name] = join(root, name);
    mkdirSync(dirs[name] as string, { recursive: true });
  }
  const env = cleanEnv({
    HOME: dirs.home as string,
    XDG_CONFIG_HOME: dirs.config as string,
    XDG_DATA_HOME: dirs.data as string,
    XDG_STATE_HOME: dirs.state as string,
    XDG_CACHE_HOME: dirs.cache as string,
    TMPDIR: dirs.tmp as string,
  });
  return { root, storeDir: dirs.store as string, env };
}

/** Files under `root` other than the credential store's records, with their text. */
function otherFiles(root: string, storeDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (!(dir === storeDir && /^credentials-[\w-]+\.json$/.test(name)))
        files.set(path, readFileSync(path, "latin1"));
    }
  };
  walk(root);
  return files;
}

interface Transcript {
  label: string;
  result: RunResult;
  /** Whether stdout may carry the access token (`latchkey token`). */
  tokenOnStdout: boolean;
}

/** The printed authorization URL is the user's prompt (docs/cli.md): the one place `state` may be. */
function withoutAuthorizationPrompt(stderr: string, authorizeUrl: string): string {
  return stderr
    .split("\n")
    .filter((line) => !line.trim().startsWith(authorizeUrl))
    .join("\n");
}

function expectNoLeak(
  secrets: readonly string[],
  transcripts: readonly Transcript[],
  box: Sandbox,
  authorizeUrl: string,
  accessTokens: readonly string[],
): void {
  const leaks: string[] = [];
  for (const { label, result, tokenOnStdout } of transcripts) {
    const stderr = withoutAuthorizationPrompt(result.stderr, authorizeUrl);
    let stdout = result.stdout;
    if (tokenOnStdout) for (const token of accessTokens) stdout = stdout.replaceAll(token, "<AT>");
    for (const secret of secrets) {
      if (stderr.includes(secret)) leaks.push(`${label}: stderr has ${secret.slice(0, 12)}…`);
      if (stdout.includes(secret)) leaks.push(`${label}: stdout has ${secret.slice(0, 12)}…`);
    }
  }
  for (const [path, text] of otherFiles(box.root, box.storeDir)) {
    for (const secret of secrets)
      if (text.includes(secret)) leaks.push(`${path} has ${secret.slice(0, 12)}…`);
  }
  expect(leaks).toEqual([]);
}

function common(idp: RunningFakeAuthorizationServer, box: Sandbox, extra: string[] = []): string[] {
  return [
    "-v",
    "--issuer",
    idp.issuer,
    "--client-id",
    "latchkey",
    "--store",
    "file",
    "--store-dir",
    box.storeDir,
    ...extra,
  ];
}

describe("S42: sentinel tokens at maximum verbosity", () => {
  it("S42: marker tokens never appear outside `token`'s stdout and the credential file, across every command and failure", async () => {
    const marker = `SNTNL${randomUUID().replaceAll("-", "")}`;
    const at = (n: number): string => `${marker}-access-${n}`;
    const rt = (n: number): string => `${marker}-refresh-${n}`;
    const tokenResponse = (n: number, expiresIn: number): Response =>
      Response.json(
        {
          access_token: at(n),
          token_type: "Bearer",
          expires_in: expiresIn,
          refresh_token: rt(n),
          scope: "profile",
        },
        { headers: { "cache-control": "no-store" } },
      );
    const idp = await startFakeAuthorizationServer({});
    onTestFinished(() => idp.close());
    const box = sandbox();
    const run = async (
      label: string,
      args: string[],
      tokenOnStdout = false,
    ): Promise<Transcript> => ({
      label,
      result: await latchkey(args, { env: box.env }),
      tokenOnStdout,
    });
    const t: Transcript[] = [];
    const args = (extra: string[] = []): string[] =>
      common(idp, box, ["--scope", "profile", ...extra]);

    // Login: the code exchange answers with marker tokens that expire in 30 s.
    idp.once("token", tokenResponse(1, 30));
    t.push(await run("login", ["login", ...args(["--browser-command", FOLLOW_BROWSER])]));
    expect(t.at(-1)?.result.code, t.at(-1)?.result.stderr).toBe(0);
    // token: expiring (30 s < 60 s), so it refreshes with refresh-1 and gets access-2.
    idp.once("token", tokenResponse(2, 3600));
    t.push(await run("token (refresh)", ["token", ...args()], true));
    expect(t.at(-1)?.result.stdout).toBe(`${at(2)}\n`);
    for (const format of ["json", "header", "exec-credential"]) {
      t.push(await run(`token --format ${format}`, ["token", ...args(["--format", format])], true));
      expect(t.at(-1)?.result.stdout).toContain(at(2));
    }
    t.push(await run("status", ["status", ...args()]));
    t.push(await run("status --json", ["status", ...args(["--json"])]));
    // refresh fails: 503, then a dropped connection, then an HTML page, then malformed JSON.
    for (const fault of [
      "token:5xx",
      "token:drop",
      "token:html-error",
      "token:malformed-json",
    ] as const) {
      idp.setFault(fault, { times: 1 });
      t.push(await run(`refresh (${fault})`, ["refresh", ...args()]));
      expect(t.at(-1)?.result.code).not.toBe(0);
    }
    // token with a forced refresh rejected by the server: invalid_grant.
    idp.once(
      "token",
      Response.json(
        { error: "invalid_grant", error_description: "refresh token revoked" },
        { status: 400 },
      ),
    );
    t.push(await run("refresh (invalid_grant)", ["refresh", ...args()]));
    expect(t.at(-1)?.result.code).not.toBe(0);
    t.push(
      await run("token --no-login after invalid_grant", ["token", "--no-login", ...args()], true),
    );
    // Log in again (marker tokens 3), then log out: revocation of refresh-3 fails, then works.
    idp.once("token", tokenResponse(3, 3600));
    t.push(await run("login again", ["login", ...args(["--browser-command", FOLLOW_BROWSER])]));
    expect(t.at(-1)?.result.code).toBe(0);
    idp.setFault("revocation:5xx", { times: 1 });
    const stored = readdirSync(box.storeDir).filter((f) => f.endsWith(".json"));
    expect(stored).toHaveLength(1);
    t.push(await run("logout (revocation 503)", ["logout", ...args()]));
    expect(t.at(-1)?.result.code).toBe(0);
    expect(idp.count("revocation", { status: 503 })).toBe(1);
    t.push(await run("logout again", ["logout", ...args()]));
    t.push(await run("status logged out", ["status", ...args()]));
    t.push(await run("token --no-login logged out", ["token", "--no-login", ...args()], true));
    t.push(await run("refresh logged out", ["refresh", ...args()]));
    // A usage error and a login that times out with a forged state.
    t.push(await run("bad flag", ["token", ...args(["--min-validity", "x"])]));
    t.push(
      await run("login with forged state", [
        "login",
        ...args(["--timeout", "1", "--browser-command", `${FOLLOW_BROWSER} --tamper-state`]),
      ]),
    );
    expect(t.at(-1)?.result.code).toBe(5);

    const secrets = [marker];
    expect(t.some((x) => x.result.stdout.includes(marker))).toBe(true); // the marker is live
    expectNoLeak(secrets, t, box, idp.endpoints.authorization, [at(1), at(2), at(3)]);
  }, 40_000);

  it("S42: the values the fake server issued and received (code, verifier, state, nonce, tokens, device code) never leak", async () => {
    const ciSecret = `ci-secret-${randomUUID()}`;
    const idp = await startFakeAuthorizationServer({
      accessTokenTtlSeconds: 30,
      deviceAutoApprove: true,
      deviceIntervalSeconds: 1,
      clients: [{ clientId: "latchkey" }, { clientId: "ci", clientSecret: ciSecret }],
    });
    onTestFinished(() => idp.close());
    const box = sandbox();
    const t: Transcript[] = [];
    const run = async (label: string, args: string[], tokenOnStdout = false): Promise<void> => {
      t.push({ label, result: await latchkey(args, { env: box.env }), tokenOnStdout });
    };
    const args = (extra: string[] = []): string[] =>
      common(idp, box, ["--scope", "openid", ...extra]);
    await run("login", ["login", ...args(["--browser-command", FOLLOW_BROWSER])]);
    await run("token (refresh)", ["token", ...args()], true);
    await run("token json", ["token", ...args(["--format", "json", "--min-validity", "0"])], true);
    await run("refresh", ["refresh", ...args()]);
    await run("status", ["status", ...args(["--json"])]);
    await run("device login", ["login", "--flow", "device", ...args()]);
    idp.setFault("token:5xx", { times: 1 });
    await run("refresh 503", ["refresh", ...args()]);
    await run("logout", ["logout", ...args()]);
    // S9: the public client never sent a secret.
    expect(idp.requests.some((r) => r.headers.authorization?.startsWith("Basic"))).toBe(false);
    const secretFile = join(box.root, "home", "ci-secret.txt");
    writeFileSync(secretFile, `${ciSecret}\n`, { mode: 0o600 });
    await run(
      "client credentials",
      [
        "token",
        "--flow",
        "client-credentials",
        "-v",
        "--issuer",
        idp.issuer,
        "--client-id",
        "ci",
        "--client-secret-file",
        secretFile,
        "--store",
        "file",
        "--store-dir",
        box.storeDir,
      ],
      true,
    );
    const failed = t.filter((x) => x.result.code !== 0 && !x.label.includes("503"));
    expect(failed.map((x) => `${x.label}: ${x.result.stderr}`)).toEqual([]);

    // Everything secret the server saw or issued, from its request log.
    const secrets = new Set<string>();
    for (const request of idp.requests) {
      for (const name of [
        "code",
        "code_verifier",
        "state",
        "nonce",
        "refresh_token",
        "device_code",
        "client_secret",
        "token",
        "subject_token",
      ]) {
        const value = request.params[name];
        if (value && value.length >= 8) secrets.add(value);
      }
      const bearer = request.headers.authorization?.replace(/^Bearer\s+/i, "");
      if (bearer && bearer.length >= 8) secrets.add(bearer);
    }
    const accessTokens = t
      .filter((x) => x.tokenOnStdout)
      .flatMap((x) => x.result.stdout.match(/[\w-]+\.[\w-]+\.[\w-]+/g) ?? []);
    expect(secrets.size).toBeGreaterThan(6);
    // The secret file is the user's own; the secret must appear in no other file or output.
    const files = otherFiles(box.root, box.storeDir);
    files.delete(secretFile);
    const leaks = [...files].filter(([, text]) => text.includes(ciSecret)).map(([p]) => p);
    expect(leaks).toEqual([]);
    for (const x of t) expect(`${x.result.stdout}${x.result.stderr}`).not.toContain(ciSecret);
    secrets.delete(ciSecret);
    expectNoLeak([...secrets], t, box, idp.endpoints.authorization, accessTokens);
  }, 40_000);
});
