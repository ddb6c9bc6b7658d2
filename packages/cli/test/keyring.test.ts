import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { describe, expect, it } from "vitest";
import {
  BIN,
  BROWSER,
  cleanEnv,
  fakeAuthorizationServerForTest,
  latchkey,
  type RunResult,
  run,
  tempDir,
} from "./helpers.js";

const WITH_KEYRING = fileURLToPath(new URL("./fixtures/with-keyring.sh", import.meta.url));
const hasKeyring =
  spawnSync("sh", ["-c", "command -v dbus-run-session && command -v gnome-keyring-daemon"])
    .status === 0;
let idp: RunningFakeAuthorizationServer | undefined;

/** A shell script of latchkey commands, run inside one keyring session. */
function inKeyringSession(script: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return run(WITH_KEYRING, ["sh", "-c", script], { env, timeoutMs: 30_000 });
}

describe.skipIf(!hasKeyring && !process.env.CI)("the OS keyring (gnome-keyring over D-Bus)", () => {
  it("S38: login and token use the keyring; nothing is written to the file store", async () => {
    idp = await fakeAuthorizationServerForTest({});
    const storeDir = tempDir();
    const args = `--issuer ${idp.issuer} --client-id latchkey --store-dir ${storeDir}`;
    const node = process.execPath;
    const script = [
      `"${node}" "${BIN}" login --store keyring ${args} --browser-command "${BROWSER}" || exit 11`,
      `"${node}" "${BIN}" token --store keyring --no-login ${args} > "${storeDir}/token.out" || exit 12`,
      `"${node}" "${BIN}" token --store auto --no-login ${args} -v 2> "${storeDir}/auto.err" || exit 13`,
      `"${node}" "${BIN}" status --store keyring ${args} || exit 14`,
    ].join("\n");
    const result = await inKeyringSession(script, cleanEnv());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Store:\s+keyring/);
    expect(readdirSync(storeDir).filter((f) => f.startsWith("credentials-"))).toEqual([]);
  });

  it("latchkey token reads the keyring without loading keytar, libsecret or @napi-rs/keyring; a refresh writes through keytar", async () => {
    idp = await fakeAuthorizationServerForTest({ accessTokenTtlSeconds: 3600 });
    const storeDir = tempDir();
    const args = `--issuer ${idp.issuer} --client-id latchkey --store-dir ${storeDir}`;
    const node = process.execPath;
    const report = fileURLToPath(new URL("./fixtures/report-libraries.mjs", import.meta.url));
    const script = [
      `"${node}" "${BIN}" login --store keyring ${args} --browser-command "${BROWSER}" || exit 11`,
      `"${node}" --import "${report}" "${BIN}" token --no-login ${args} > "${storeDir}/a.out" 2> "${storeDir}/a.err" || exit 12`,
      // A minimum validity longer than the token's life forces a refresh, which writes.
      `"${node}" --import "${report}" "${BIN}" token --no-login --min-validity 7200 ${args} > "${storeDir}/b.out" 2> "${storeDir}/b.err" || exit 13`,
      `"${node}" --import "${report}" "${BIN}" token --store keyring --no-login ${args} > "${storeDir}/c.out" 2> "${storeDir}/c.err" || exit 14`,
      `cat "${storeDir}/a.err" "${storeDir}/b.err" "${storeDir}/c.err" >&2`,
      `cat "${storeDir}/a.out" "${storeDir}/b.out" "${storeDir}/c.out"`,
    ].join("\n");
    const result = await inKeyringSession(script, cleanEnv());
    expect(result.code, result.stderr).toBe(0);
    const mapped = result.stderr.match(/mapped keyring libraries: \[[^\]]*\]/g);
    expect(mapped).toEqual([
      "mapped keyring libraries: []",
      expect.stringMatching(/libsecret/),
      "mapped keyring libraries: []",
    ]);
    const [first, refreshed, again] = result.stdout.trim().split("\n");
    expect(refreshed).not.toBe(first);
    // The refreshed token was written to the keyring (by keytar) and read back directly.
    expect(again).toBe(refreshed);
    expect(readdirSync(storeDir).filter((f) => f.startsWith("credentials-"))).toEqual([]);
  });

  it("S38: without a D-Bus session, --store auto falls back to the file store and says so; --store keyring exits 2", async () => {
    idp = await fakeAuthorizationServerForTest({});
    const storeDir = tempDir();
    const env = cleanEnv({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" });
    const auto = await latchkey(
      [
        "login",
        "--issuer",
        idp.issuer,
        "--client-id",
        "latchkey",
        "--store-dir",
        storeDir,
        "--browser-command",
        BROWSER,
      ],
      { env },
    );
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/keyring is not usable.*credentials are stored in files under/);
    expect(readdirSync(storeDir).filter((f) => f.startsWith("credentials-"))).toHaveLength(1);
    const keyring = await latchkey(
      ["token", "--store", "keyring", "--issuer", idp.issuer, "--client-id", "latchkey"],
      { env },
    );
    expect(keyring.code).toBe(2);
    expect(keyring.stderr).toContain("--store file");
    void BIN;
  });
});
