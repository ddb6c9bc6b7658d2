import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it, onTestFinished } from "vitest";
import {
  BROWSER,
  cleanEnv,
  cliArgs,
  fakeAuthorizationServerForTest,
  latchkey,
  startProxy,
  tempDir,
} from "./helpers.js";

let idp: RunningFakeAuthorizationServer;
let storeDir: string;
beforeEach(async () => {
  idp = await fakeAuthorizationServerForTest({});
  storeDir = tempDir();
});

function common(extra: string[] = []): string[] {
  return cliArgs({ issuer: idp.issuer, storeDir }, extra);
}

async function login(extra: string[] = []): Promise<void> {
  const result = await latchkey([
    "login",
    ...common(["--scope", "openid", "--browser-command", BROWSER, ...extra]),
  ]);
  expect(result.code, result.stderr).toBe(0);
}

describe("status", () => {
  it("exits 4 when logged out and shows the session without secrets when logged in", async () => {
    const out = await latchkey(["status", ...common()]);
    expect(out.code).toBe(4);
    expect(out.stdout).toMatch(/Logged in:\s+no/);
    await login();
    const text = await latchkey(["status", ...common()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Subject:\s+alice/);
    expect(text.stdout).toMatch(/Store:\s+file/);
    const json = await latchkey(["status", "--json", ...common()]);
    const summary = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      logged_in: true,
      subject: "alice",
      profile: "default",
      client_id: "latchkey",
    });
    const token = (await latchkey(["token", ...common()])).stdout.trim();
    expect(json.stdout).not.toContain(token);
    expect(json.stdout).not.toMatch(/eyJ/);
  });
});

describe("refresh", () => {
  it("exits 4 with nothing stored, else refreshes now and never logs in", async () => {
    const nothing = await latchkey(["refresh", ...common()]);
    expect(nothing.code).toBe(4);
    expect(idp.requests).toHaveLength(0);
    await login();
    const before = (await latchkey(["token", ...common()])).stdout;
    const refreshed = await latchkey(["refresh", ...common()]);
    expect(refreshed.code).toBe(0);
    expect(refreshed.stdout).toBe("");
    expect(refreshed.stderr).toMatch(/Refreshed; valid until \d{4}-/);
    expect(idp.count("token", { grantType: "refresh_token", status: 200 })).toBe(1);
    const after = (await latchkey(["token", ...common()])).stdout;
    expect(after).not.toBe(before);
    expect(idp.count("authorize")).toBe(1);
  });
});

describe("logout", () => {
  it("deletes what is stored and is idempotent", async () => {
    await login();
    const first = await latchkey(["logout", ...common()]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("Logged out of");
    expect((await latchkey(["token", "--no-login", ...common()])).code).toBe(4);
    const second = await latchkey(["logout", ...common()]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("Not logged in; nothing to do.");
  });

  it("--no-revoke makes no request", async () => {
    await login();
    idp.clearRequests();
    expect((await latchkey(["logout", "--no-revoke", ...common()])).code).toBe(0);
    expect(idp.requests).toHaveLength(0);
  });
});

describe("configuration precedence: flags > LATCHKEY_* > config-file profile > defaults", () => {
  it("a config-file profile configures the command; the environment and flags override it", async () => {
    const dir = tempDir();
    const otherDir = tempDir();
    const config = join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        profiles: {
          work: {
            issuer: idp.issuer,
            "client-id": "latchkey",
            store: "file",
            "store-dir": storeDir,
            scope: ["openid"],
          },
        },
      }),
    );
    const env = cleanEnv({ LATCHKEY_CONFIG: config });
    const login = await latchkey(["login", "--profile", "work", "--browser-command", BROWSER], {
      env,
    });
    expect(login.code, login.stderr).toBe(0);
    expect((await latchkey(["token", "--profile", "work", "--no-login"], { env })).code).toBe(0);
    // The environment beats the profile: another store directory, so nothing is stored there.
    const envWins = await latchkey(["token", "--profile", "work", "--no-login"], {
      env: cleanEnv({ LATCHKEY_CONFIG: config, LATCHKEY_STORE_DIR: otherDir }),
    });
    expect(envWins.code).toBe(4);
    // A flag beats the environment.
    const flagWins = await latchkey(
      ["token", "--profile", "work", "--no-login", "--store-dir", storeDir],
      {
        env: cleanEnv({ LATCHKEY_CONFIG: config, LATCHKEY_STORE_DIR: otherDir }),
      },
    );
    expect(flagWins.code).toBe(0);
    // Another profile shares nothing (S18).
    expect((await latchkey(["token", "--no-login", ...common(["--profile", "other"])])).code).toBe(
      4,
    );
  });

  it("an unreadable or malformed config file is a usage error (exit 2)", async () => {
    const dir = tempDir();
    const bad = join(dir, "config.json");
    writeFileSync(bad, "{ not json");
    const result = await latchkey(["token", "--issuer", idp.issuer, "--client-id", "x"], {
      env: cleanEnv({ LATCHKEY_CONFIG: bad }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is invalid: not valid JSON");
    writeFileSync(bad, JSON.stringify({ profiles: { default: { "client-secret-typo": "x" } } }));
    expect((await latchkey(["token"], { env: cleanEnv({ LATCHKEY_CONFIG: bad }) })).code).toBe(2);
    const missing = await latchkey(["token"], {
      env: cleanEnv({ LATCHKEY_CONFIG: join(dir, "nope.json") }),
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Cannot read the config file");
  });
});

describe("--flow command", () => {
  it("prints the command's trimmed stdout as the token", async () => {
    const result = await latchkey([
      "token",
      ...common([
        "--flow",
        "command",
        "--command",
        `${process.execPath} -e "console.log('  external-token  ')"`,
      ]),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("external-token\n");
    expect(idp.requests).toHaveLength(0);
  });

  it("a failing command shows its exit status and stderr, exit 3", async () => {
    const result = await latchkey([
      "token",
      ...common([
        "--flow",
        "command",
        "--command",
        `${process.execPath} -e "console.error('no credentials here'); process.exit(7)"`,
      ]),
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("exited with status 7");
    expect(result.stderr).toContain("no credentials here");
  });

  it("a command that prints a token and fails never has its stdout echoed, at any verbosity", async () => {
    for (const verbosity of [[], ["-v"]]) {
      const result = await latchkey([
        "token",
        ...verbosity,
        ...common([
          "--flow",
          "command",
          "--command",
          `${process.execPath} -e "console.log('eyJ.sentinel-token.sig'); console.error('expired'); process.exit(2)"`,
        ]),
      ]);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain("exited with status 2");
      expect(result.stderr).toContain("printed 23 characters (not shown)");
      expect(result.stderr).toContain("expired");
      expect(result.stderr).not.toContain("sentinel-token");
      expect(result.stdout).toBe("");
    }
  });
});

describe("HTTP proxy", () => {
  it("HTTP_PROXY carries every request latchkey makes; NO_PROXY exempts hosts", async () => {
    const proxy = await startProxy();
    onTestFinished(() => proxy.close());
    const env = cleanEnv({ HTTP_PROXY: proxy.url, NO_PROXY: "" });
    const result = await latchkey(["login", ...common(["--browser-command", BROWSER])], { env });
    expect(result.code, result.stderr).toBe(0);
    const authority = new URL(idp.issuer).host;
    expect(
      proxy.seen.filter(
        (line) =>
          line === `CONNECT ${authority}` || line.startsWith("GET ") || line.startsWith("POST "),
      ).length,
    ).toBeGreaterThan(0);
    proxy.seen.length = 0;
    const exempt = await latchkey(["refresh", ...common()], {
      env: cleanEnv({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }),
    });
    expect(exempt.code, exempt.stderr).toBe(0);
    expect(proxy.seen).toHaveLength(0);
  });
});

describe("verbosity", () => {
  it("-q keeps stderr free of notices; -v shows the store, profile and flow", async () => {
    const quiet = await latchkey(["token", "--no-login", "-q", ...common()]);
    expect(quiet.code).toBe(4);
    expect(quiet.stderr).not.toContain("hint:");
    expect(quiet.stderr).toContain("error: Not logged in.");
    const verbose = await latchkey(["token", "--no-login", "-v", ...common()]);
    expect(verbose.stderr).toMatch(/store: file; profile: default; flow: auto/);
    expect(verbose.stderr).toContain("error code LOGIN_REQUIRED");
  });
});

describe("LATCHKEY_* for every flag", () => {
  it("boolean flags read their variable; 0/false mean off", async () => {
    const on = await latchkey(["token", "--no-login", ...common()], {
      env: cleanEnv({ LATCHKEY_VERBOSE: "1" }),
    });
    expect(on.stderr).toContain("store: file");
    const off = await latchkey(["token", "--no-login", ...common()], {
      env: cleanEnv({ LATCHKEY_VERBOSE: "false" }),
    });
    expect(off.stderr).not.toContain("store: file");
    const insecureOff = await latchkey(["token", "--no-login", ...common()], {
      env: cleanEnv({ LATCHKEY_INSECURE_SKIP_TLS_VERIFY: "0" }),
    });
    expect(insecureOff.stderr).not.toContain("TLS certificates are not verified");
  });

  it("repeatable and command flags read theirs too (LATCHKEY_SCOPE, LATCHKEY_FORMAT)", async () => {
    await login();
    const result = await latchkey(["token", ...common()], {
      env: cleanEnv({ LATCHKEY_FORMAT: "header" }),
    });
    expect(result.stdout).toMatch(/^Authorization: Bearer /);
    const scoped = await latchkey(["status", "--json", ...common(["--profile", "scoped"])], {
      env: cleanEnv({ LATCHKEY_SCOPE: "openid profile" }),
    });
    expect(scoped.code).toBe(4);
  });
});
