// Path settings as people write them: `~` in a config file or a quoted variable gets no shell
// expansion, and a relative store directory would put credentials wherever the command runs.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import { BROWSER, cleanEnv, fakeAuthorizationServerForTest, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer;
let home: string;
let work: string;
beforeEach(async () => {
  idp = await fakeAuthorizationServerForTest({});
  home = tempDir();
  work = tempDir();
});

const server = (): string[] => ["--issuer", idp.issuer, "--client-id", "latchkey"];

describe("~ and relative paths", () => {
  it('"store-dir": "~/.cache/latchkey" in the config file is under $HOME, not ./~', async () => {
    const config = join(home, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        profiles: { default: { store: "file", "store-dir": "~/.cache/latchkey" } },
      }),
    );
    const env = cleanEnv({ HOME: home, LATCHKEY_CONFIG: config });
    const login = await latchkey(["login", ...server(), "--browser-command", BROWSER], {
      env,
      cwd: work,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(readdirSync(work)).toEqual([]);
    expect(readdirSync(join(home, ".cache", "latchkey")).some((n) => n.endsWith(".json"))).toBe(
      true,
    );
    const token = await latchkey(["token", "--no-login", ...server()], { env, cwd: work });
    expect(token.code, token.stderr).toBe(0);
  });

  it("LATCHKEY_STORE_DIR=~/creds and --store-dir=~ expand too", async () => {
    const env = cleanEnv({ HOME: home, LATCHKEY_STORE_DIR: "~/creds", LATCHKEY_STORE: "file" });
    const login = await latchkey(["login", ...server(), "--browser-command", BROWSER], {
      env,
      cwd: work,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(existsSync(join(home, "creds"))).toBe(true);
    const status = await latchkey(["status", ...server(), "--store-dir=~/creds"], {
      env: cleanEnv({ HOME: home, LATCHKEY_STORE: "file" }),
      cwd: work,
    });
    expect(status.code, status.stderr).toBe(0);
    expect(readdirSync(work)).toEqual([]);
  });

  it("a relative store directory is a usage error (exit 2) and nothing is written", async () => {
    for (const args of [["--store-dir", "creds"], ["--store-dir=~alice/creds"]]) {
      const result = await latchkey(["login", ...server(), "--store", "file", ...args], {
        env: cleanEnv({ HOME: home }),
        cwd: work,
      });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain("--store-dir must be an absolute path or start with ~/");
    }
    expect(readdirSync(work)).toEqual([]);
    expect(idp.requests).toHaveLength(0);
  });
});
