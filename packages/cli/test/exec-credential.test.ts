import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import {
  BROWSER,
  cleanEnv,
  cliArgs,
  fakeAuthorizationServerForTest,
  latchkey,
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

function execInfo(interactive: boolean): NodeJS.ProcessEnv {
  return cleanEnv({
    KUBERNETES_EXEC_INFO: JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      spec: { interactive },
    }),
  });
}

async function login(): Promise<string> {
  const result = await latchkey(["login", ...common(["--browser-command", BROWSER])]);
  expect(result.code, result.stderr).toBe(0);
  const token = await latchkey(["token", ...common()]);
  expect(token.code, token.stderr).toBe(0);
  return token.stdout.trim();
}

const EXEC = ["token", "--format", "exec-credential"];

describe("exec-credential with KUBERNETES_EXEC_INFO spec.interactive false", () => {
  it("nothing stored and no browser: exit 4 at once naming `latchkey login`, no device flow", async () => {
    // Before the fix this started a device flow and waited for it (180 s): the helper's
    // 15-second bound ends the test then.
    const started = Date.now();
    const result = await latchkey([...EXEC, ...common()], { env: execInfo(false) });
    const elapsed = Date.now() - started;
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Not logged in.");
    expect(result.stderr).toContain("spec.interactive is false");
    expect(result.stderr).toContain(
      `Log in first: latchkey login --issuer ${idp.issuer} --client-id latchkey --store file --store-dir ${storeDir}`,
    );
    expect(result.stderr).not.toMatch(/visit|enter the code|open this URL/i);
    expect(idp.count("device_authorization")).toBe(0);
    expect(idp.count("authorize")).toBe(0);
    expect(idp.requests).toHaveLength(0);
    console.info(`non-interactive exec-credential, nothing stored: exit 4 after ${elapsed} ms`);
  });

  it("nothing stored, a browser command configured: the browser is not started", async () => {
    // Before the fix, the browser command (which completes the login) ran: exit 0.
    const result = await latchkey([...EXEC, ...common(["--browser-command", BROWSER])], {
      env: execInfo(false),
    });
    expect(result.code, result.stderr).toBe(4);
    expect(idp.count("authorize")).toBe(0);
    expect(idp.count("token")).toBe(0);
  });

  it("expired and the refresh refused (invalid_grant): exit 4, no login", async () => {
    await login();
    idp.once("token", Response.json({ error: "invalid_grant" }, { status: 400 }));
    const result = await latchkey(
      [...EXEC, "--min-validity", "7200", ...common(["--browser-command", BROWSER])],
      { env: execInfo(false) },
    );
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Log in first: latchkey login --issuer");
    // The login's code exchange, then the refused refresh (answered by the override).
    const tokenRequests = idp.requests.filter((r) => r.endpoint === "token");
    expect(tokenRequests).toHaveLength(2);
    expect(tokenRequests[0]?.params.grant_type).toBe("authorization_code");
    expect(idp.count("authorize")).toBe(1); // the first login's only
    expect(idp.count("device_authorization")).toBe(0);
  });

  it("expired and refreshable: the refresh is still made, exit 0", async () => {
    const before = await login();
    const result = await latchkey([...EXEC, "--min-validity", "7200", ...common()], {
      env: execInfo(false),
    });
    expect(result.code, result.stderr).toBe(0);
    const credential = JSON.parse(result.stdout) as { status: { token: string } };
    expect(credential.status.token).not.toBe(before);
    expect(idp.count("token", { grantType: "refresh_token", status: 200 })).toBe(1);
    expect(idp.count("authorize")).toBe(1);
  });

  it("--flow client-credentials asks nobody anything: the grant still runs", async () => {
    await idp.close();
    idp = await startFakeAuthorizationServer({
      clients: [{ clientId: "robot", clientSecret: "s3cret" }],
    });
    const env = execInfo(false);
    env.LATCHKEY_CLIENT_SECRET = "s3cret";
    const result = await latchkey(
      [...EXEC, ...common(["--client-id", "robot", "--flow", "client-credentials"])],
      { env },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(idp.count("token", { grantType: "client_credentials", status: 200 })).toBe(1);
  });

  it("spec.interactive true: a login runs as before", async () => {
    const result = await latchkey([...EXEC, ...common(["--browser-command", BROWSER])], {
      env: execInfo(true),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(idp.count("authorize")).toBe(1);
    const credential = JSON.parse(result.stdout) as { apiVersion: string; kind: string };
    expect(credential).toMatchObject({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
    });
  });

  it("a KUBERNETES_EXEC_INFO that is not JSON: exit 2 before any request", async () => {
    const result = await latchkey([...EXEC, ...common(["--browser-command", BROWSER])], {
      env: cleanEnv({ KUBERNETES_EXEC_INFO: "{not json" }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("KUBERNETES_EXEC_INFO is not valid JSON.");
    expect(idp.requests).toHaveLength(0);
  });
});
