// Issue 12 point 10: `--profile NAME` for a profile that exists nowhere names it and lists the
// known ones (exit 2) instead of asking for --client-id; a profile that exists only in the
// store is not unknown.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { describe, expect, it } from "vitest";
import { BROWSER, cleanEnv, fakeAuthorizationServerForTest, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer | undefined;

function configWith(profiles: Record<string, unknown>): string {
  const path = join(tempDir(), "config.json");
  writeFileSync(path, JSON.stringify({ profiles }));
  return path;
}

describe("--profile of a profile that exists nowhere", () => {
  it("names the profile and lists the config file's and the stored ones; exit 2", async () => {
    idp = await fakeAuthorizationServerForTest({});
    const storeDir = tempDir();
    const config = configWith({
      work: { issuer: idp.issuer, "client-id": "latchkey" },
      home: { issuer: idp.issuer, "client-id": "latchkey" },
    });
    const env = cleanEnv({ LATCHKEY_CONFIG: config });
    const store = ["--store", "file", "--store-dir", storeDir];
    // "flagged" exists only in the store: logged in with flags.
    const login = await latchkey(
      [
        "login",
        "--profile",
        "flagged",
        "--issuer",
        idp.issuer,
        "--client-id",
        "latchkey",
        "--browser-command",
        BROWSER,
        ...store,
      ],
      { env },
    );
    expect(login.code, login.stderr).toBe(0);
    for (const command of ["token", "status", "refresh", "logout", "login"]) {
      const result = await latchkey([command, "--profile", "nope", ...store], { env });
      expect(result.code, `${command}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('Unknown profile "nope"');
      expect(result.stderr).toContain(config);
      expect(result.stderr).toMatch(
        /Known profiles: home, work \(config file\); flagged \(stored\)/,
      );
      expect(result.stderr).not.toContain("--client-id is required");
    }
    // Through the environment too.
    const viaEnv = await latchkey(["token", ...store], {
      env: cleanEnv({ LATCHKEY_CONFIG: config, LATCHKEY_PROFILE: "nope" }),
    });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toContain('Unknown profile "nope"');
  });

  it("a profile only in the store works with its flags, and without them says which flags it was logged in with", async () => {
    idp = await fakeAuthorizationServerForTest({});
    const storeDir = tempDir();
    const env = cleanEnv({ LATCHKEY_CONFIG: configWith({}) });
    const flags = ["--issuer", idp.issuer, "--client-id", "latchkey"];
    const store = ["--store", "file", "--store-dir", storeDir];
    const login = await latchkey(
      ["login", "--profile", "ci", ...flags, "--browser-command", BROWSER, ...store],
      { env },
    );
    expect(login.code, login.stderr).toBe(0);
    const token = await latchkey(["token", "--no-login", "--profile", "ci", ...flags, ...store], {
      env,
    });
    expect(token.code, token.stderr).toBe(0);
    const bare = await latchkey(["token", "--no-login", "--profile", "ci", ...store], { env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Profile "ci" is not in the config file');
    expect(bare.stderr).toContain(`--issuer ${idp.issuer} --client-id latchkey`);
    expect(bare.stdout).toBe("");
  });

  it('no flags and no "default" profile in a config file that has others: names them too', async () => {
    const config = configWith({ work: { issuer: "https://id.example.com", "client-id": "x" } });
    const store = ["--store", "file", "--store-dir", tempDir()];
    const result = await latchkey(["token", ...store], {
      env: cleanEnv({ LATCHKEY_CONFIG: config }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the config file ${config} has no profile "default"`);
    expect(result.stderr).toContain(
      "Known profiles: work (config file); choose one with --profile",
    );
    // Without a config file, the plain message stays.
    const home = tempDir();
    const bare = await latchkey(["token", ...store], {
      env: cleanEnv({ HOME: home, XDG_CONFIG_HOME: join(home, "cfg") }),
    });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("--client-id is required");
  });

  it("with no config file and nothing stored, says that no profile is known yet", async () => {
    const home = tempDir();
    const result = await latchkey(
      ["token", "--profile", "nope", "--store", "file", "--store-dir", tempDir()],
      { env: cleanEnv({ HOME: home, XDG_CONFIG_HOME: join(home, "cfg") }) },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown profile "nope"');
    expect(result.stderr).toContain("No profile is known yet");
  });
});
