import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type FakeFaultName,
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FOLLOW_BROWSER, killAll, latchkey, type RunResult, snapshot } from "./support/cli.js";

// Fault injection on every network step of the CLI (S33, S51, docs/cli.md exit codes): the fake
// server answers 5xx, drops the connection, sends malformed JSON or a proxy's HTML error page.
// Each run must end with the documented exit code and one `error:` line, and the file store
// must hold exactly the bytes it held before.

type Kind = "5xx" | "drop" | "malformed-json" | "html-error";
const KINDS: readonly Kind[] = ["5xx", "drop", "malformed-json", "html-error"];

/** What the CLI must say for each fault: exit 5 (network or server error, docs/cli.md). */
const EXPECTED: Record<Kind, { code: number; message: RegExp }> = {
  "5xx": { code: 5, message: /HTTP 503/ },
  drop: { code: 5, message: /Could not reach/ },
  "malformed-json": { code: 5, message: /not JSON/ },
  "html-error": { code: 5, message: /HTTP 502/ },
};

let idp: RunningFakeAuthorizationServer;
let root: string;
let storeDir: string;
let before: Map<string, Buffer>;

function args(dir: string, extra: string[] = []): string[] {
  return [
    "--issuer",
    idp.issuer,
    "--client-id",
    "latchkey",
    "--scope",
    "openid",
    "--store",
    "file",
    "--store-dir",
    dir,
    ...extra,
  ];
}

function errorLines(result: RunResult): string[] {
  return result.stderr.split("\n").filter((line) => line.startsWith("error:"));
}

/**
 * Every token response says `expires_in: 0`: every `token` refreshes, and no still-valid token
 * is left to fall back on, so a failed refresh is an error (issue 12: a transient failure with a
 * still-valid token prints it with a warning instead, see refresh-semantics.test.ts).
 */
function expiredTokens(): void {
  idp.use(async (_request, next, { endpoint }) => {
    const response = await next();
    if (endpoint !== "token" || response.status !== 200) return response;
    const body: unknown = await response
      .clone()
      .json()
      .catch(() => undefined);
    return body ? Response.json({ ...body, expires_in: 0 }) : response; // malformed-json as sent
  });
}

beforeAll(async () => {
  idp = await startFakeAuthorizationServer({ accessTokenTtlSeconds: 30 });
  expiredTokens();
  root = mkdtempSync(join(tmpdir(), "latchkey-faults-"));
  storeDir = join(root, "store");
  const login = await latchkey(["login", ...args(storeDir, ["--browser-command", FOLLOW_BROWSER])]);
  if (login.code !== 0) throw new Error(`setup login failed: ${login.stderr}`);
  before = snapshot(storeDir);
});

afterEach(() => {
  killAll();
  idp.reset();
  expiredTokens();
});

afterAll(async () => {
  await idp.close();
  rmSync(root, { recursive: true, force: true });
});

/**
 * A store of its own with a fresh login: a request that times out on the client may still be
 * processed by the server later (a refresh then rotates, and the token copied elsewhere is spent).
 */
async function freshStore(name: string): Promise<string> {
  const dir = join(root, name);
  const login = await latchkey(["login", ...args(dir, ["--browser-command", FOLLOW_BROWSER])]);
  if (login.code !== 0) throw new Error(`login for ${name} failed: ${login.stderr}`);
  return dir;
}

function expectStoreIntact(): void {
  const after = snapshot(storeDir);
  expect([...after.keys()]).toEqual([...before.keys()]);
  for (const [path, bytes] of before) expect(after.get(path)?.equals(bytes), path).toBe(true);
}

describe("S33: faults on discovery, the token endpoint (refresh) and the code exchange", () => {
  const steps: { step: string; endpoint: "discovery" | "token"; command: string[] }[] = [
    { step: "discovery (token)", endpoint: "discovery", command: ["token"] },
    { step: "refresh grant (token)", endpoint: "token", command: ["token"] },
    { step: "refresh grant (refresh)", endpoint: "token", command: ["refresh"] },
    {
      step: "code exchange (login)",
      endpoint: "token",
      command: ["login", "--browser-command", FOLLOW_BROWSER],
    },
  ];
  const cases = steps.flatMap((s) => KINDS.map((kind) => ({ ...s, kind })));

  it.each(cases)(
    "S33: $step, $endpoint:$kind → exit 5, one error line, no stack, store intact",
    async (c) => {
      idp.setFault(`${c.endpoint}:${c.kind}` as FakeFaultName);
      const result = await latchkey([
        ...c.command.slice(0, 1),
        ...args(storeDir, c.command.slice(1)),
      ]);
      expect(result.code, result.stderr).not.toBe(0);
      expect(result.code, result.stderr).toBe(EXPECTED[c.kind].code);
      const errors = errorLines(result);
      expect(errors, result.stderr).toHaveLength(1);
      expect(errors[0]).toMatch(EXPECTED[c.kind].message);
      expect(result.stdout).toBe("");
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(idp.count(c.endpoint)).toBeGreaterThan(0); // the fault was actually hit
      expectStoreIntact();
    },
  );
});

describe("S33: faults on the JWKS fetch and the device authorization request", () => {
  const steps = [
    {
      step: "ID-token keys (login)",
      endpoint: "jwks",
      command: ["login", "--browser-command", FOLLOW_BROWSER],
    },
    {
      step: "device authorization (login)",
      endpoint: "device_authorization",
      command: ["login", "--flow", "device"],
    },
  ] as const;
  const cases = steps.flatMap((s) => KINDS.map((kind) => ({ ...s, kind })));

  it.each(cases)(
    "S33: $step, $endpoint:$kind → exit 5, one error line, no stack, store intact",
    async (c) => {
      idp.setFault(`${c.endpoint}:${c.kind}` as FakeFaultName);
      const result = await latchkey([c.command[0], ...args(storeDir, c.command.slice(1))]);
      expect(result.code, result.stderr).toBe(EXPECTED[c.kind].code);
      const errors = errorLines(result);
      expect(errors, result.stderr).toHaveLength(1);
      expect(errors[0]).toMatch(EXPECTED[c.kind].message);
      expect(result.stdout).toBe("");
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(idp.count(c.endpoint)).toBeGreaterThan(0);
      expectStoreIntact();
    },
  );
});

describe("S30 S33: delays past --timeout on every network step", () => {
  const steps = [
    { endpoint: "discovery", command: ["token"], expected: 5 },
    { endpoint: "token", command: ["token"], expected: 5 },
    { endpoint: "jwks", command: ["login", "--browser-command", FOLLOW_BROWSER], expected: 5 },
    { endpoint: "device_authorization", command: ["login", "--flow", "device"], expected: 5 },
    // Logout still deletes locally and warns that the revocation did not happen.
    { endpoint: "revocation", command: ["logout"], expected: 0 },
  ] as const;
  it.each(steps)("S30: $endpoint that hangs → exit $expected within the timeout", async (c) => {
    const dir = await freshStore(`delay-${c.endpoint}`);
    idp.setFault(`${c.endpoint}:delay` as FakeFaultName, { delayMs: 2000 });
    const started = performance.now();
    const result = await latchkey(
      [c.command[0], ...args(dir, [...c.command.slice(1), "--timeout", "1"])],
      {
        timeoutMs: 4000,
      },
    );
    expect(performance.now() - started).toBeLessThan(4000);
    expect(result.code, result.stderr).toBe(c.expected);
    // The device flow's own deadline (--timeout) may come first: both are a timeout.
    expect(result.stderr).toMatch(/did not answer within 1 s|not approved/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // Let the delayed answer go out before the next test, so it is not logged there.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });
});

describe("S30 S33: a server that stops answering", () => {
  it("S30 S33: a token endpoint that hangs past --timeout ends in exit 5", async () => {
    const dir = await freshStore("hang");
    idp.setFault("token:delay", { delayMs: 5000 });
    const started = performance.now();
    const result = await latchkey(["refresh", ...args(dir, ["--timeout", "1"])], {
      timeoutMs: 3000,
    }).catch((error: unknown) => ({ code: -1, stderr: String(error), stdout: "", ms: 0 }));
    expect(performance.now() - started).toBeLessThan(3500);
    expect(result.code, result.stderr).toBe(5);
  });

  it("a slow discovery answer within the limits still succeeds", async () => {
    const dir = await freshStore("slow");
    idp.setFault("discovery:delay", { delayMs: 300, times: 1 });
    const result = await latchkey(["token", ...args(dir)]);
    expect(result.code, result.stderr).toBe(0);
  });
});

describe("S51: faults on revocation during logout", () => {
  // A 200 with any body is a done revocation (RFC 7009 §2.2: the body is not specified).
  it.each(["5xx", "drop", "html-error"] as const)(
    "S51: revocation:%s → exit 0, a warning, local credentials deleted anyway",
    async (kind) => {
      const dir = join(root, `logout-${kind}`);
      cpSync(storeDir, dir, { recursive: true });
      idp.setFault(`revocation:${kind}` as FakeFaultName);
      const result = await latchkey(["logout", ...args(dir)]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/warning: Could not revoke the token at the server/);
      expect(result.stderr).not.toContain("error:");
      expect(idp.count("revocation")).toBe(1);
      expect(snapshot(dir).size).toBe(0);
      expect(existsSync(dir)).toBe(true);
      expectStoreIntact(); // the shared store was not touched
    },
  );

  it("S51: revocation answering 200 with a malformed body counts as revoked; exit 0, no warning", async () => {
    const dir = join(root, "logout-malformed");
    cpSync(storeDir, dir, { recursive: true });
    idp.setFault("revocation:malformed-json");
    const result = await latchkey(["logout", ...args(dir)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("warning");
    expect(snapshot(dir).size).toBe(0);
  });
});
