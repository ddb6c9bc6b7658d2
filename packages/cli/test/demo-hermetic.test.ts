// Issue 12 point 8: `latchkey demo` is hermetic: its own embedded server, a memory store, and
// nothing of the user's config file, LATCHKEY_* environment, profile or store.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterEach, describe, expect, it } from "vitest";
import { cleanEnv, latchkey, tempDir } from "./helpers.js";

let other: RunningFakeAuthorizationServer | undefined;
afterEach(async () => {
  await other?.close();
  other = undefined;
});

describe("latchkey demo is hermetic", () => {
  it("ignores a config file, LATCHKEY_* variables and the store of the user: the other server gets no request, the store stays empty", async () => {
    // The user's own server, which records every request it gets.
    other = await startFakeAuthorizationServer({});
    const storeDir = tempDir();
    const config = join(tempDir(), "config.json");
    const profile = {
      issuer: other.issuer,
      "client-id": "latchkey",
      store: "file",
      "store-dir": storeDir,
    };
    writeFileSync(config, JSON.stringify({ profiles: { default: profile, work: profile } }));
    const env = cleanEnv({
      LATCHKEY_CONFIG: config,
      LATCHKEY_ISSUER: other.issuer,
      LATCHKEY_CLIENT_ID: "latchkey",
      LATCHKEY_STORE: "file",
      LATCHKEY_STORE_DIR: storeDir,
      LATCHKEY_PROFILE: "work",
      LATCHKEY_SCOPE: "admin",
      LATCHKEY_FLOW: "device",
    });
    const result = await latchkey(["demo", "--json"], { env });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      logged_in: true,
      subject: "alice",
      profile: "default",
      client_id: "latchkey",
      store: "memory",
    });
    expect(summary.issuer).not.toBe(other.issuer);
    expect(other.requests).toHaveLength(0);
    expect(readdirSync(storeDir)).toEqual([]);
  });

  it("refuses the flags that would point it elsewhere (exit 2); its help lists only its own", async () => {
    for (const flag of [
      ["--issuer", "https://id.example.com"],
      ["--client-id", "x"],
      ["--store", "file"],
      ["--store-dir", "/tmp"],
      ["--profile", "work"],
      ["--flow", "device"],
    ]) {
      const result = await latchkey(["demo", ...flag]);
      expect(result.code, flag.join(" ")).toBe(2);
      expect(result.stderr).toContain(`unknown option '${flag[0]}'`);
    }
    const help = await latchkey(["demo", "--help"]);
    expect(help.code).toBe(0);
    for (const own of ["--json", "--browser-command", "--no-browser", "--verbose", "--quiet"])
      expect(help.stdout).toContain(own);
    for (const foreign of ["--issuer", "--client-id", "--store", "--profile", "--flow", "env:"])
      expect(help.stdout).not.toContain(foreign);
  });
});
