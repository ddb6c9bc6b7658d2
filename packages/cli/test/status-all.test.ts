// Issue 12 point 11: `latchkey status --all [--json]` lists every stored credential set
// (profile, issuer, client, subject, expiry, store) without --issuer or --client-id, and never
// a token.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, BROWSER, cleanEnv, latchkey, run, tempDir } from "./helpers.js";

const WITH_KEYRING = fileURLToPath(new URL("./fixtures/with-keyring.sh", import.meta.url));
const hasKeyring =
  spawnSync("sh", ["-c", "command -v dbus-run-session && command -v gnome-keyring-daemon"])
    .status === 0;

const idps: RunningFakeAuthorizationServer[] = [];
afterEach(async () => {
  for (const idp of idps.splice(0)) await idp.close();
});

describe("status --all", () => {
  it("lists every stored credential of the file store, as text and as a JSON array, never a token", async () => {
    const first = await startFakeAuthorizationServer({});
    const second = await startFakeAuthorizationServer({ clients: [{ clientId: "other" }] });
    idps.push(first, second);
    const storeDir = tempDir();
    const env = cleanEnv();
    const store = ["--store", "file", "--store-dir", storeDir];
    const logins: [string, string, string][] = [
      [first.issuer, "latchkey", "default"],
      [first.issuer, "latchkey", "work"],
      [second.issuer, "other", "ci"],
    ];
    for (const [issuer, clientId, profile] of logins) {
      const login = await latchkey(
        [
          "login",
          "--issuer",
          issuer,
          "--client-id",
          clientId,
          "--profile",
          profile,
          "--browser-command",
          BROWSER,
          ...store,
        ],
        { env },
      );
      expect(login.code, login.stderr).toBe(0);
    }
    const json = await latchkey(["status", "--all", "--json", ...store], { env });
    expect(json.code, json.stderr).toBe(0);
    const entries = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(entries.map((e) => [e.issuer, e.client_id, e.profile])).toEqual([
      [second.issuer, "other", "ci"],
      [first.issuer, "latchkey", "default"],
      [first.issuer, "latchkey", "work"],
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ logged_in: true, subject: "alice", store: "file" });
      expect(typeof entry.expires_at).toBe("string");
    }
    const text = await latchkey(["status", "--all", ...store], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /Profile ci \(file store\)\n {2}Issuer: +http:\/\/127\.0\.0\.1:\d+\n {2}Client: +other\n {2}Subject: +alice\n {2}Expires: +\d{4}-/,
    );
    expect(text.stdout.match(/^Profile /gm)).toHaveLength(3);
    // Never a token: none of the stored secrets appears in either output.
    for (const name of readdirSync(storeDir).filter((f) => f.endsWith(".json"))) {
      const record = JSON.parse(readFileSync(join(storeDir, name), "utf8")) as Record<
        string,
        string
      >;
      expect(record.accessToken).toBeTruthy();
      for (const secret of [record.accessToken, record.refreshToken, record.idToken]) {
        if (secret === undefined) continue;
        expect(json.stdout).not.toContain(secret);
        expect(text.stdout).not.toContain(secret);
      }
    }
  });

  it("nothing stored: an empty JSON array and exit 4", async () => {
    const result = await latchkey([
      "status",
      "--all",
      "--json",
      "--store",
      "file",
      "--store-dir",
      tempDir(),
    ]);
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout)).toEqual([]);
    expect(result.stderr).toContain("nothing is stored");
  });
});

describe.skipIf(!hasKeyring && !process.env.CI)("status --all with the real keyring", () => {
  it("lists the keyring's credentials and the file store's together, each with its store", async () => {
    const idp = await startFakeAuthorizationServer({});
    idps.push(idp);
    const storeDir = tempDir();
    const node = process.execPath;
    const common = `--issuer ${idp.issuer} --client-id latchkey --store-dir ${storeDir} --browser-command "${BROWSER}"`;
    const script = [
      `"${node}" "${BIN}" login --store keyring --profile default ${common} || exit 11`,
      `"${node}" "${BIN}" login --store keyring --profile work ${common} || exit 12`,
      `"${node}" "${BIN}" login --store file --profile files ${common} || exit 13`,
      `"${node}" "${BIN}" status --all --json --store-dir ${storeDir} || exit 14`,
    ].join("\n");
    const result = await run(WITH_KEYRING, ["sh", "-c", script], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const entries = JSON.parse(result.stdout.trim().split("\n").at(-1) as string) as Record<
      string,
      unknown
    >[];
    expect(entries.map((e) => [e.profile, e.store, e.subject])).toEqual([
      ["default", "keyring", "alice"],
      ["files", "file", "alice"],
      ["work", "keyring", "alice"],
    ]);
  });
});
