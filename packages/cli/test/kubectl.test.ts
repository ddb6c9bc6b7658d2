// The real kubectl (/usr/bin/kubectl) against a small local HTTPS API server that records the
// Authorization header, with the kubeconfig `latchkey kubeconfig` prints: kubectl runs
// `latchkey token --format exec-credential` and sends what it prints; and when kubectl says
// nobody can be asked (interactiveMode Never, or no terminal), latchkey fails at once, exit 4.
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import {
  type FakeTlsCredentials,
  generateSelfSignedCertificate,
  type RunningFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import {
  BIN,
  BROWSER,
  cleanEnv,
  fakeAuthorizationServerForTest,
  latchkey,
  type RunResult,
  tempDir,
} from "./helpers.js";
import { KUBECTL, kubectlEnv, NAMESPACES, run, startApiServer } from "./kube-api.js";

let tls: FakeTlsCredentials;
let caFile: string;
beforeAll(async () => {
  tls = await generateSelfSignedCertificate();
  caFile = join(tempDir(), "ca.pem");
  writeFileSync(caFile, tls.cert);
});
afterAll(() => {
  rmSync(dirname(caFile), { recursive: true, force: true });
});

/** A temporary directory removed when the test ends. */
function scratch(prefix?: string): string {
  const dir = tempDir(prefix);
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let idp: RunningFakeAuthorizationServer;
let storeDir: string;
let home: string;
beforeEach(async () => {
  idp = await fakeAuthorizationServerForTest({});
  storeDir = tempDir();
  home = tempDir("latchkey-kubectl-home-");
});

/** Runs the real kubectl; its stdin is not a terminal. */
function kubectl(args: string[]): Promise<RunResult> {
  return run(KUBECTL, args, kubectlEnv(home));
}

/** Settings given to `latchkey kubeconfig` through LATCHKEY_* variables, not flags. */
function settingsEnv(): NodeJS.ProcessEnv {
  return cleanEnv({
    LATCHKEY_ISSUER: idp.issuer,
    LATCHKEY_CLIENT_ID: "latchkey",
    LATCHKEY_STORE: "file",
    LATCHKEY_STORE_DIR: storeDir,
  });
}

async function login(scope = "openid"): Promise<void> {
  const result = await latchkey(["login", "--scope", scope, "--browser-command", BROWSER], {
    env: settingsEnv(),
  });
  expect(result.code, result.stderr).toBe(0);
}

async function storedToken(args: string[] = []): Promise<string> {
  const result = await latchkey(["token", "--no-login", ...args], { env: settingsEnv() });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

/** `latchkey kubeconfig` into a file; returns its path. */
async function writeKubeconfig(
  args: string[],
  edit = (text: string) => text,
  env: NodeJS.ProcessEnv = settingsEnv(),
): Promise<string> {
  const result = await latchkey(["kubeconfig", "--exec-command", BIN, ...args], { env });
  expect(result.code, result.stderr).toBe(0);
  const file = join(home, "kubeconfig.yaml");
  writeFileSync(file, edit(result.stdout));
  return file;
}

describe("latchkey kubeconfig with the real kubectl", () => {
  it("kubectl sends the stored access token; settings from LATCHKEY_* are in the exec args", async () => {
    await login();
    const api = await startApiServer(tls);
    const file = await writeKubeconfig(["--server", api.url, "--certificate-authority", caFile]);
    const token = await storedToken();
    const first = await kubectl(["--kubeconfig", file, "get", "--raw", NAMESPACES]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ kind: "NamespaceList" });
    expect(api.authorizationsOf(NAMESPACES)).toEqual([`Bearer ${token}`]);
    // kubectl keeps nothing between runs (fresh HOME): a second run asks latchkey again and
    // gets the same stored token, with no request to the authorization server.
    idp.clearRequests();
    const second = await kubectl(["--kubeconfig", file, "get", "--raw", NAMESPACES]);
    expect(second.code, second.stderr).toBe(0);
    expect(api.authorizationsOf(NAMESPACES)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
    expect(api.authorizations.every((header) => header === `Bearer ${token}`)).toBe(true);
    expect(idp.requests).toHaveLength(0);
  });

  it("--id-token: kubectl sends the ID token", async () => {
    await login();
    const api = await startApiServer(tls);
    const file = await writeKubeconfig([
      "--server",
      api.url,
      "--certificate-authority",
      caFile,
      "--id-token",
    ]);
    const idToken = await storedToken(["--id-token"]);
    expect(idToken).not.toBe(await storedToken());
    const result = await kubectl(["--kubeconfig", file, "get", "--raw", NAMESPACES]);
    expect(result.code, result.stderr).toBe(0);
    expect(api.authorizationsOf(NAMESPACES)).toEqual([`Bearer ${idToken}`]);
  });

  it("interactiveMode Never, nothing stored: latchkey exits 4 at once, kubectl shows why; no login starts", async () => {
    const api = await startApiServer(tls);
    const file = await writeKubeconfig(
      ["--server", api.url, "--certificate-authority", caFile],
      (text) => text.replace('interactiveMode: "IfAvailable"', 'interactiveMode: "Never"'),
    );
    const result = await kubectl(["--kubeconfig", file, "get", "--raw", NAMESPACES]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("exit code 4");
    expect(result.stderr).toContain(
      `Log in first: latchkey login --issuer ${idp.issuer} --client-id latchkey --store file --store-dir ${storeDir}`,
    );
    expect(idp.count("authorize")).toBe(0);
    expect(idp.count("device_authorization")).toBe(0);
    expect(api.authorizations.every((header) => header === undefined)).toBe(true);
  });

  it("interactiveMode IfAvailable without a terminal is non-interactive too: exit 4, no login", async () => {
    const api = await startApiServer(tls);
    const file = await writeKubeconfig([
      "--server",
      api.url,
      "--certificate-authority",
      caFile,
      "--browser-command",
      BROWSER,
    ]);
    const result = await kubectl(["--kubeconfig", file, "get", "--raw", NAMESPACES]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("exit code 4");
    expect(result.stderr).toContain("spec.interactive is false");
    expect(idp.count("authorize")).toBe(0);
  });

  it("interactiveMode IfAvailable with a terminal: latchkey logs in, kubectl sends the new token", async () => {
    const api = await startApiServer(tls);
    const file = await writeKubeconfig([
      "--server",
      api.url,
      "--certificate-authority",
      caFile,
      "--browser-command",
      BROWSER,
    ]);
    // util-linux `script` gives kubectl a pseudo-terminal, as a user's shell would.
    const quoted = [KUBECTL, "--kubeconfig", file, "get", "--raw", NAMESPACES]
      .map((word) => `'${word.replaceAll("'", `'\\''`)}'`)
      .join(" ");
    const result = await run("script", ["-qec", quoted, "/dev/null"], kubectlEnv(home));
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain("NamespaceList");
    expect(idp.count("authorize")).toBe(1);
    const token = await storedToken();
    expect(api.authorizationsOf(NAMESPACES)).toEqual([`Bearer ${token}`]);
  });

  it("the user entry alone, read back by kubectl: exact exec settings, values quoted safely", async () => {
    const awkward = 'x: "y" #z\\ \' {a} [b] & *c\n\ttab \u007f\u0085\u2028 é 🔑 \ufeff';
    const secretFile = join(scratch(), "secret");
    writeFileSync(secretFile, "s3cret\n");
    // A config-file profile is named, not copied; the config file goes into the entry's env.
    const configFile = join(scratch(), "config.json");
    writeFileSync(configFile, JSON.stringify({ profiles: { work: { timeout: "30" } } }));
    const env = settingsEnv();
    env.LATCHKEY_CONFIG = configFile;
    const file = await writeKubeconfig(
      [
        "--auth-param",
        `acr_values=${awkward}`,
        "--scope",
        "openid profile",
        "--client-secret-file",
        relative(process.cwd(), secretFile), // written as an absolute path
        "--profile",
        "work",
      ],
      undefined,
      env,
    );
    const view = await kubectl(["config", "view", "--kubeconfig", file, "-o", "json"]);
    expect(view.code, view.stderr).toBe(0);
    const config = JSON.parse(view.stdout) as {
      clusters: unknown;
      contexts: unknown;
      users: { name: string; user: { exec: Record<string, unknown> } }[];
    };
    expect(config.clusters).toBeNull();
    expect(config.contexts).toBeNull();
    expect(config.users).toHaveLength(1);
    expect(config.users[0]?.name).toBe("latchkey-work");
    expect(config.users[0]?.user.exec).toMatchObject({
      apiVersion: "client.authentication.k8s.io/v1",
      command: BIN,
      interactiveMode: "IfAvailable",
      provideClusterInfo: false,
      args: [
        "token",
        "--format",
        "exec-credential",
        "--issuer",
        idp.issuer,
        "--client-id",
        "latchkey",
        "--client-secret-file",
        secretFile,
        "--scope",
        "openid profile",
        "--auth-param",
        `acr_values=${awkward}`,
        "--profile",
        "work",
        "--store",
        "file",
        "--store-dir",
        storeDir,
      ],
    });
    expect(config.users[0]?.user.exec.env).toEqual([
      { name: "LATCHKEY_CONFIG", value: configFile },
    ]);
    expect(view.stdout).not.toContain("s3cret");
  });

  it("--cluster alone: a context for a cluster the user already has, as kubectl reads it", async () => {
    const file = await writeKubeconfig([
      "--cluster",
      "prod",
      "--context",
      "prod-oidc",
      "--user",
      "me",
    ]);
    const view = await kubectl(["config", "view", "--kubeconfig", file, "-o", "json"]);
    expect(view.code, view.stderr).toBe(0);
    const config = JSON.parse(view.stdout) as Record<string, unknown>;
    expect(config.clusters).toBeNull();
    expect(config.contexts).toEqual([
      { name: "prod-oidc", context: { cluster: "prod", user: "me" } },
    ]);
    expect(config["current-context"]).toBe("prod-oidc");
    expect((config.users as { name: string }[]).map((user) => user.name)).toEqual(["me"]);
  });

  it.each([
    [["--server", "http://127.0.0.1:6443"], "--server must be an https:// URL"],
    [["--server", "not a url"], "--server is not an absolute URL."],
    [["--certificate-authority", "/nonexistent.pem"], "--certificate-authority needs --server."],
    [["--context", "c"], "--context needs --server or --cluster."],
    [["--min-validity", "soon"], "--min-validity must be a number of seconds."],
  ])("refuses %j with a usage error (exit 2), printing nothing", async (args, message) => {
    const result = await latchkey(["kubeconfig", ...args], { env: settingsEnv() });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
  });

  it("an inline client secret is refused (exit 2): it would be written in clear text", async () => {
    const result = await latchkey(["kubeconfig", "--client-secret", "s3cret"], {
      env: settingsEnv(),
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("--client-secret-file");
    expect(result.stderr).not.toContain("s3cret");
  });
});
