// Issue 12 point 9: the keyring-fallback notice of `--store auto` is printed when credentials
// are written to files (login, a refresh that stores) and at -v, not on every read: `latchkey
// token` runs on every kubectl call.
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { describe, expect, it } from "vitest";
import { BROWSER, cleanEnv, fakeAuthorizationServerForTest, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer | undefined;

const NOTICE = /The OS keyring is not usable/g;

describe("the keyring-fallback notice (no D-Bus session)", () => {
  it("login says it once; token reading a valid stored token says nothing; token -v says it; a refresh that stores says it", async () => {
    idp = await fakeAuthorizationServerForTest({ accessTokenTtlSeconds: 3600 });
    const storeDir = tempDir();
    // No session bus: the keyring cannot be used, `auto` falls back to files.
    const env = cleanEnv({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" });
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const args = ["--issuer", idp.issuer, "--client-id", "latchkey", "--store-dir", storeDir];
    const login = await latchkey(["login", ...args, "--browser-command", BROWSER], { env });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr.match(NOTICE)).toHaveLength(1);
    expect(login.stderr).toContain(`credentials are stored in files under ${storeDir}`);

    const token = await latchkey(["token", "--no-login", ...args], { env });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).not.toBe("");
    expect(token.stderr).toBe("");

    const verbose = await latchkey(["token", "--no-login", "-v", ...args], { env });
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr.match(NOTICE)).toHaveLength(1);

    // A minimum validity beyond the token's life forces a refresh, which writes the files.
    const refreshed = await latchkey(["token", "--no-login", "--min-validity", "7200", ...args], {
      env,
    });
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stderr.match(NOTICE)).toHaveLength(1);
    expect(idp.count("token", { grantType: "refresh_token", status: 200 })).toBe(1);
  });
});
