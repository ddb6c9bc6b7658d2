import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BIN, BROWSER, cleanEnv, cliArgs, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer;
let storeDir: string;
afterEach(async () => {
  await idp?.close();
});

async function startIdp(
  options: Parameters<typeof startFakeAuthorizationServer>[0] = {},
): Promise<void> {
  idp = await startFakeAuthorizationServer(options);
  storeDir = tempDir();
}

function common(extra: string[] = []): string[] {
  return cliArgs({ issuer: idp.issuer, storeDir }, extra);
}

async function userinfoSub(token: string): Promise<unknown> {
  const res = await fetch(idp.endpoints.userinfo, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { sub: unknown }).sub;
}

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(true));
  });
}

describe("latchkey login and token, end to end over real sockets", () => {
  beforeEach(async () => {
    await startIdp();
  });

  it("S10 S21 S38: logs in through the browser command, then token prints the stored token without a new login", async () => {
    const login = await latchkey([
      "login",
      ...common(["--scope", "openid", "--browser-command", BROWSER]),
    ]);
    expect(login.stderr).toContain("Logged in to");
    expect(login.code).toBe(0);
    expect(login.stdout).toBe("");
    expect(idp.count("authorize")).toBe(1);
    expect(idp.count("token", { grantType: "authorization_code", status: 200 })).toBe(1);
    const tokenRequest = idp.requests.find((r) => r.endpoint === "token");
    expect(tokenRequest?.params.code_verifier).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(tokenRequest?.params.redirect_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(tokenRequest?.headers.authorization).toBeUndefined();

    const files = readdirSync(storeDir).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(1);
    expect(statSync(join(storeDir, files[0] as string)).mode & 0o777).toBe(0o600);

    const first = await latchkey(["token", ...common()]);
    expect(first.code).toBe(0);
    const token = first.stdout.trim();
    expect(first.stdout).toBe(`${token}\n`);
    expect(await userinfoSub(token)).toBe("alice");

    const second = await latchkey(["token", ...common()]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(idp.count("authorize")).toBe(1);
    expect(idp.count("token")).toBe(1);
  });

  it("S42: no token, code or verifier appears on stderr or in the messages of a login", async () => {
    const login = await latchkey([
      "login",
      "-v",
      ...common(["--scope", "openid", "--browser-command", BROWSER]),
    ]);
    expect(login.code).toBe(0);
    const token = await latchkey(["token", "-v", ...common()]);
    const tokenRequest = idp.requests.find((r) => r.endpoint === "token");
    const secrets = [
      tokenRequest?.params.code,
      tokenRequest?.params.code_verifier,
      token.stdout.trim(),
    ];
    for (const secret of secrets) {
      expect(secret).toBeTruthy();
      expect(login.stderr).not.toContain(secret as string);
      expect(token.stderr).not.toContain(secret as string);
    }
    expect(login.stderr).toContain("callback server listening on http://127.0.0.1:");
  });

  it("token logs in by itself when nothing is stored, and --format json carries the expiry", async () => {
    const result = await latchkey([
      "token",
      "--format",
      "json",
      ...common(["--scope", "openid", "--browser-command", BROWSER]),
    ]);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.expires_in).toBeGreaterThan(3500);
    expect(await userinfoSub(body.access_token as string)).toBe("alice");
  });

  it("--format header and exec-credential", async () => {
    expect((await latchkey(["login", ...common(["--browser-command", BROWSER])])).code).toBe(0);
    const header = await latchkey(["token", "--format", "header", ...common()]);
    expect(header.stdout).toMatch(/^Authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+\n$/);
    const exec = await latchkey(["token", "--format", "exec-credential", ...common()], {
      env: cleanEnv({
        KUBERNETES_EXEC_INFO: JSON.stringify({
          apiVersion: "client.authentication.k8s.io/v1beta1",
          kind: "ExecCredential",
          spec: { interactive: false },
        }),
      }),
    });
    const credential = JSON.parse(exec.stdout) as {
      apiVersion: string;
      kind: string;
      status: { token: string; expirationTimestamp: string };
    };
    expect(credential.apiVersion).toBe("client.authentication.k8s.io/v1beta1");
    expect(credential.kind).toBe("ExecCredential");
    expect(credential.status.token).toBe(
      header.stdout.trim().replace("Authorization: Bearer ", ""),
    );
    expect(credential.status.expirationTimestamp).toMatch(/Z$/);
  });

  it("a reader that closed its end (| head -c0): no stack trace, no retry, exit 0", async () => {
    expect((await latchkey(["login", ...common(["--browser-command", BROWSER])])).code).toBe(0);
    const child = spawn(process.execPath, [BIN, "token", "--no-login", ...common()], {
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy(); // the reader is gone before the token is written
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("--no-login with nothing stored exits 4 without contacting the server", async () => {
    const result = await latchkey(["token", "--no-login", ...common()]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("Not logged in");
    expect(result.stderr).toContain("hint: Run `latchkey login`");
    expect(idp.requests).toHaveLength(0);
  });

  it("S15: a callback with a forged state never reaches the token endpoint; the login times out with exit 5", async () => {
    const result = await latchkey([
      "login",
      "--timeout",
      "2",
      ...common(["--browser-command", `${BROWSER} --tamper-state`]),
    ]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/No login callback arrived within 2 s/);
    expect(idp.count("token")).toBe(0);
  });

  it("S30: Ctrl-C while waiting exits 130 and frees the callback port", async () => {
    let port = 0;
    const result = await latchkey(["login", "--no-browser", ...common()], {
      onStderr: (text, child) => {
        const match = /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A(\d+)/.exec(text);
        if (match && port === 0) {
          port = Number(match[1]);
          child.kill("SIGINT");
        }
      },
    });
    expect(result.code).toBe(130);
    expect(port).toBeGreaterThan(0);
    expect(await portIsClosed(port)).toBe(true);
    expect(result.stderr).toContain("cancelled");
  });
});

describe("refresh", () => {
  it("S36 S37: an expiring token is refreshed, the rotated refresh token is persisted and works next time", async () => {
    await startIdp({ accessTokenTtlSeconds: 30 });
    expect((await latchkey(["login", ...common(["--browser-command", BROWSER])])).code).toBe(0);
    const first = await latchkey(["token", ...common()]);
    expect(first.code).toBe(0);
    expect(idp.count("token", { grantType: "refresh_token", status: 200 })).toBe(1);
    const second = await latchkey(["token", ...common()]);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toBe(first.stdout);
    expect(idp.count("token", { grantType: "refresh_token", status: 200 })).toBe(2);
    expect(idp.count("token", { status: 400 })).toBe(0);
    expect(idp.count("authorize")).toBe(1);
    const valid = await latchkey(["token", "--min-validity", "0", ...common()]);
    expect(valid.stdout).toBe(second.stdout);
  });
});

describe("errors and exit codes", () => {
  it("a missing client id is a usage error: exit 2, one line, no stack trace", async () => {
    const result = await latchkey(["token", "--issuer", "http://127.0.0.1:9"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--client-id is required");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unknown flag is a usage error (exit 2)", async () => {
    const result = await latchkey(["token", "--no-such-flag"]);
    expect(result.code).toBe(2);
  });

  it("an unreachable issuer exits 5 with a clear message", async () => {
    const storeDir = tempDir();
    const result = await latchkey([
      "login",
      "--issuer",
      "http://127.0.0.1:9",
      "--client-id",
      "x",
      "--store",
      "memory",
      "--store-dir",
      storeDir,
    ]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      "Could not reach http://127.0.0.1:9/.well-known/oauth-authorization-server",
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("S20: a plain-HTTP issuer that is not loopback is refused (exit 2)", async () => {
    const result = await latchkey([
      "login",
      "--issuer",
      "http://login.example.com",
      "--client-id",
      "x",
      "--store",
      "memory",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("uses plain HTTP");
  });

  it("LATCHKEY_* environment variables configure the command; flags win over them", async () => {
    await startIdp();
    const env = cleanEnv({
      LATCHKEY_ISSUER: idp.issuer,
      LATCHKEY_CLIENT_ID: "nobody",
      LATCHKEY_STORE: "file",
      LATCHKEY_STORE_DIR: storeDir,
    });
    const login = await latchkey(
      ["login", "--client-id", "latchkey", "--scope", "openid", "--browser-command", BROWSER],
      { env },
    );
    expect(login.code).toBe(0);
    const token = await latchkey(["token", "--client-id", "latchkey", "--no-login"], { env });
    expect(token.code).toBe(0);
    expect(await userinfoSub(token.stdout.trim())).toBe("alice");
  });

  it("--version and --help exit 0", async () => {
    const version = await latchkey(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await latchkey(["token", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--format <format>");
  });

  it("help is whole whichever command is built: the program's list, each command's own, help <command>, a typo's suggestion", async () => {
    // Only the command being run gets its options built; every other way in builds them all.
    const all = await latchkey(["--help"]);
    expect(all.code).toBe(0);
    for (const name of ["login", "token", "refresh", "logout", "status", "demo"]) {
      expect(all.stdout).toMatch(new RegExp(`\\n  ${name} \\[options\\]\\s+\\S`));
    }
    for (const [name, own] of [
      ["login", "--json"],
      ["logout", "--no-revoke"],
      ["status", "--json"],
      ["refresh", "--store <kind>"],
    ] as const) {
      const help = await latchkey([name, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: latchkey ${name} [options]`);
      expect(help.stdout).toContain(own);
      expect(help.stdout).toContain("--issuer <url>");
    }
    const viaHelp = await latchkey(["help", "token"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain("--min-validity <seconds>");
    const typo = await latchkey(["tokn"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("(Did you mean token?)");
  });
});

describe("latchkey demo", () => {
  it("completes a real login against the embedded fake server without a display", async () => {
    const result = await latchkey(["demo"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Logged in:\s+yes/);
    expect(result.stdout).toMatch(/Subject:\s+alice/);
    expect(result.stderr).toContain("completing the demo login headlessly");
    expect(result.stderr).toMatch(/http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
  });

  it("--json prints a summary without any secret", async () => {
    const result = await latchkey(["demo", "--json"]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      logged_in: true,
      subject: "alice",
      client_id: "latchkey",
      store: "memory",
      has_refresh_token: true,
    });
    expect(JSON.stringify(summary)).not.toMatch(
      /eyJ|"access_token"|"refresh_token"|"id_token"|nonce/,
    );
  });

  it("opens the browser command when one is given", async () => {
    const result = await latchkey(["demo", "--browser-command", BROWSER]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("headlessly");
    expect(existsSync(BROWSER.split(" ")[1] as string)).toBe(true);
    expect(readFileSync(BROWSER.split(" ")[1] as string, "utf8")).toContain("followLoginRedirects");
  });
});
