// Issue 12 point 12: each command's --help lists only the flags it uses; the common flags it does
// not list are still accepted (docs/cli.md: every command takes them) and ignored; the top-level help shows
// the config file, the profiles, the exit codes and three examples.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cleanEnv, latchkey, tempDir } from "./helpers.js";

const LOGIN_ONLY = [
  "--flow",
  "--browser-command",
  "--no-browser",
  "--port",
  "--redirect-uri",
  "--auth-param",
  "--command",
  "--copy-auth-params-to-token-request",
  "--device-authorization-endpoint",
  "--authorization-endpoint",
];

async function help(command: string): Promise<string> {
  const result = await latchkey([command, "--help"]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

/** The long flags a help text lists. */
function flags(text: string): string[] {
  return [...text.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] as string);
}

describe("per-command --help", () => {
  it("login and token list the login flags; refresh, logout and status do not; demo lists almost nothing", async () => {
    for (const command of ["login", "token"]) {
      const listed = flags(await help(command));
      for (const flag of LOGIN_ONLY) expect(listed, `${command} ${flag}`).toContain(flag);
    }
    const refresh = flags(await help("refresh"));
    const logout = flags(await help("logout"));
    const status = flags(await help("status"));
    for (const [name, listed] of [
      ["refresh", refresh],
      ["logout", logout],
      ["status", status],
    ] as const) {
      for (const flag of LOGIN_ONLY) expect(listed, `${name} ${flag}`).not.toContain(flag);
      for (const flag of ["--issuer", "--client-id", "--profile", "--store", "--store-dir"])
        expect(listed, `${name} ${flag}`).toContain(flag);
    }
    expect(refresh).toContain("--refresh-param");
    expect(refresh).toContain("--ca-file");
    expect(logout).toContain("--revocation-endpoint");
    expect(logout).toContain("--no-revoke");
    expect(logout).not.toContain("--scope");
    expect(status).toEqual(expect.arrayContaining(["--json", "--all"]));
    expect(status).not.toContain("--client-secret");
    expect(status).not.toContain("--ca-file");
    expect(flags(await help("demo")).sort()).toEqual(
      ["--browser-command", "--help", "--json", "--no-browser", "--quiet", "--verbose"].sort(),
    );
  });

  it("a common flag a command does not list is accepted and ignored, from every source", async () => {
    for (const [command, flag] of [
      ["refresh", "--flow=device"],
      ["logout", "--browser-command=x"],
      ["status", "--port=8080"],
      ["status", "--client-secret=s"],
      ["refresh", "--redirect-uri=http://127.0.0.1:1/cb"],
    ] as const) {
      const result = await latchkey([
        command,
        flag,
        "--issuer",
        "http://127.0.0.1:9",
        "--client-id",
        "x",
        "--store",
        "file",
        "--store-dir",
        tempDir(),
      ]);
      // Not a usage error: the command runs (and finds nothing stored, or nothing to revoke).
      expect(result.code, `${command} ${flag}: ${result.stderr}`).not.toBe(2);
      expect(result.stderr).not.toContain("unknown option");
    }
    const unknown = await latchkey(["status", "--no-such-flag"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--no-such-flag'");
    // LATCHKEY_FLOW=bogus would fail validation if `status` read it; it is not status's.
    const storeDir = tempDir();
    const status = await latchkey(
      [
        "status",
        "--issuer",
        "http://127.0.0.1:9",
        "--client-id",
        "x",
        "--store",
        "file",
        "--store-dir",
        storeDir,
      ],
      { env: cleanEnv({ LATCHKEY_FLOW: "bogus", LATCHKEY_TIMEOUT: "-1" }) },
    );
    expect(status.code, status.stderr).toBe(4);
    expect(status.stdout).toMatch(/Logged in:\s+no/);
  });

  it("a profile's settings a command does not take are ignored", async () => {
    const dir = tempDir();
    const config = join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        profiles: {
          default: { issuer: "http://127.0.0.1:9", "client-id": "x", flow: "bogus", timeout: "-1" },
        },
      }),
    );
    const result = await latchkey(["status", "--store", "file", "--store-dir", dir], {
      env: cleanEnv({ LATCHKEY_CONFIG: config }),
    });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout).toMatch(/Logged in:\s+no/);
  });
});

describe("top-level --help", () => {
  it("shows the config file's path for this user and its format, the profiles, the exit codes and three examples", async () => {
    const home = tempDir();
    const xdg = join(home, "xdg");
    mkdirSync(join(xdg, "latchkey"), { recursive: true });
    writeFileSync(
      join(xdg, "latchkey", "config.json"),
      JSON.stringify({ profiles: { work: { issuer: "https://a.example" }, home: {} } }),
    );
    const result = await latchkey(["--help"], {
      env: cleanEnv({ HOME: home, XDG_CONFIG_HOME: xdg }),
    });
    expect(result.code).toBe(0);
    const text = result.stdout;
    expect(text).toContain(`Config file: ${join(xdg, "latchkey", "config.json")}`);
    expect(text).toContain('{"profiles": {"default": {"issuer":');
    expect(text).toContain("Profiles: home, work");
    for (const code of ["0", "1", "2", "3", "4", "5", "130"])
      expect(text).toMatch(new RegExp(`\\n {2,4}${code} {2}\\S`));
    expect(text).toContain("interrupted (Ctrl-C)");
    expect(text).toMatch(/latchkey login --issuer \S+ --client-id \S+/);
    expect(text).toContain('curl -H "$(latchkey token --format header)"');
    expect(text).toMatch(/latchkey kubeconfig .*\n.*kubectl /);

    const explicit = await latchkey(["--help"], {
      env: cleanEnv({ LATCHKEY_CONFIG: "/nonexistent/latchkey.json" }),
    });
    expect(explicit.stdout).toContain("Config file: /nonexistent/latchkey.json");
    expect(explicit.stdout).toContain("Profiles: (the file cannot be read");
  });

  it("no command's own help carries the top-level sections", async () => {
    expect(await help("token")).not.toContain("Exit codes:");
  });
});
