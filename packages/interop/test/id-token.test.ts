// `latchkey token --id-token` against oidc-provider 9 (an OpenID-certified server): the ID token
// it issued, and a refresh when that ID token expires within --min-validity; oidc-provider issues
// a new ID token on every refresh of an `openid` grant.
import { readFileSync } from "node:fs";
import { decodeJwtClaims, parseStoredCredentials } from "@latchkey/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  credentialsFile,
  killAll,
  latchkey,
  OIDC_BROWSER,
  opArgs,
  tempDir,
} from "./support/cli.js";
import { PUBLIC_CLIENT_ID, type RunningOidcProvider, startOidcProvider } from "./support/oidc.js";

let op: RunningOidcProvider | undefined;
afterEach(async () => {
  killAll();
  await op?.close();
  op = undefined;
});

describe("latchkey token --id-token against oidc-provider 9", () => {
  it("prints the stored ID token, and refreshes for a new one when it expires within --min-validity", async () => {
    op = await startOidcProvider();
    const storeDir = tempDir();
    const args = opArgs(op.issuer, storeDir);
    const login = await latchkey(["login", ...args, "--browser-command", OIDC_BROWSER]);
    expect(login.code, login.stderr).toBe(0);
    const stored = parseStoredCredentials(readFileSync(credentialsFile(storeDir), "utf8"));
    expect(stored.idToken).toBeTruthy();

    const first = await latchkey(["token", "--no-login", "--id-token", ...args]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`${stored.idToken}\n`);
    expect(op.grants("refresh_token")).toBe(0);

    // oidc-provider's ID tokens live an hour: asking for two forces a refresh.
    const exec = await latchkey([
      "token",
      "--no-login",
      "--id-token",
      "--format",
      "exec-credential",
      "--min-validity",
      "7200",
      ...args,
    ]);
    expect(exec.code, exec.stderr).toBe(0);
    expect(op.grants("refresh_token")).toBe(1);
    const refreshed = parseStoredCredentials(readFileSync(credentialsFile(storeDir), "utf8"));
    const credential = JSON.parse(exec.stdout) as {
      status: { token: string; expirationTimestamp: string };
    };
    expect(refreshed.idToken).not.toBe(stored.idToken);
    expect(credential.status.token).toBe(refreshed.idToken);
    const claims = decodeJwtClaims(refreshed.idToken);
    expect(claims).toMatchObject({ iss: op.issuer, aud: PUBLIC_CLIENT_ID, sub: "alice" });
    expect(credential.status.expirationTimestamp).toBe(
      new Date((claims?.exp as number) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    );
  });
});
