import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { describe, expect, it, onTestFinished } from "vitest";
import { clientsFromArgs, UsageError } from "../src/bin-clients.js";
import { createFakeAuthorizationServer } from "../src/index.js";
import { authorizeRequest, newPkce } from "./helpers.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const LOOPBACK = [
  "http://127.0.0.1/callback",
  "http://[::1]/callback",
  "http://localhost/callback",
];

function option(name: string, value: string) {
  return { kind: "option", name, value };
}

/** Starts the bin; resolves with its JSON line. The process is killed when the test ends. */
async function startBin(args: string[]): Promise<{
  issuer: string;
  endpoints: { authorization: string; token: string; jwks: string };
}> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  onTestFinished(async () => {
    child.kill("SIGTERM");
    await exited;
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", () => reject(new Error(`exited before printing: ${stderr}`)));
  });
  return JSON.parse(line);
}

function authorizationUrl(endpoint: string, clientId: string, redirectUri: string): string {
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: newPkce().challenge,
    code_challenge_method: "S256",
    state: "s-1",
  }).toString();
  return url.href;
}

// Issue 12 point 17: registered redirect URIs from the command line, per client.
describe("--redirect-uri: which client it belongs to", () => {
  it("applies to the --client just before it, or to latchkey when none is", () => {
    const clients = clientsFromArgs([
      option("redirect-uri", "http://localhost:5173/"),
      option("client", "spa"),
      option("redirect-uri", "https://app.example/cb"),
      option("redirect-uri", "com.example.app:/oauth"),
      option("client", "ci:s3cret"),
    ]);
    expect(clients).toEqual([
      {
        clientId: "latchkey",
        tokenEndpointAuthMethod: "none",
        redirectUris: [...LOOPBACK, "http://localhost:5173/"],
      },
      {
        clientId: "spa",
        tokenEndpointAuthMethod: "none",
        redirectUris: [...LOOPBACK, "https://app.example/cb", "com.example.app:/oauth"],
      },
      {
        clientId: "ci",
        clientSecret: "s3cret",
        tokenEndpointAuthMethod: "client_secret_basic",
        redirectUris: LOOPBACK,
      },
    ]);
  });

  it("refuses a relative URI, a fragment and the same URI twice for a client", () => {
    for (const uri of ["/callback", "https://app.example/cb#x", "not a uri"]) {
      expect(() => clientsFromArgs([option("redirect-uri", uri)]), uri).toThrow(UsageError);
    }
    expect(() => clientsFromArgs([option("redirect-uri", LOOPBACK[0] ?? "")])).toThrow(
      /registered twice for "latchkey"/,
    );
  });
});

describe("the 400 page for an unregistered redirect URI", () => {
  it("S1: names the URIs registered for the client, escaped, and never redirects", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: "http://127.0.0.1:9999",
      clients: [{ clientId: "spa", redirectUris: ['https://app.example/cb?x=<b>&y="1"'] }],
    });
    const response = await authorizeRequest(server, {
      response_type: "code",
      client_id: "spa",
      redirect_uri: "https://evil.example/<script>",
      code_challenge: newPkce().challenge,
      code_challenge_method: "S256",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
    const page = await response.text();
    expect(page).toContain("<code>https://app.example/cb?x=&#60;b&#62;&#38;y=&#34;1&#34;</code>");
    expect(page).toContain("<code>https://evil.example/&#60;script&#62;</code>");
    expect(page).toContain("<code>spa</code>");
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<b>");
  });
});

describe("PAR with an unregistered redirect URI", () => {
  it("S1: the invalid_request names the registered URIs", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: "http://127.0.0.1:9999",
      clients: [{ clientId: "spa", redirectUris: ["http://localhost:5173/"] }],
    });
    const response = await server.fetch(server.endpoints.pushedAuthorizationRequest, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        response_type: "code",
        client_id: "spa",
        redirect_uri: "https://evil.example/",
        code_challenge: newPkce().challenge,
        code_challenge_method: "S256",
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: "invalid_request",
      error_description:
        "redirect_uri is missing or not registered; registered: http://localhost:5173/",
    });
  });
});

describe.runIf(existsSync(BIN))("latchkey-fake-idp --redirect-uri (needs `pnpm build`)", () => {
  it("a SPA on http://localhost:5173/ logs in; another client's URI gets the 400 page", async () => {
    const info = await startBin([
      "--redirect-uri",
      "http://localhost:5173/",
      "--client",
      "web",
      "--redirect-uri",
      "https://app.example/cb",
    ]);
    const spa = await fetch(
      authorizationUrl(info.endpoints.authorization, "latchkey", "http://localhost:5173/"),
      { redirect: "manual" },
    );
    expect(spa.status).toBe(302);
    expect(spa.headers.get("location")).toMatch(/^http:\/\/localhost:5173\/\?code=/);
    const web = await fetch(
      authorizationUrl(info.endpoints.authorization, "web", "https://app.example/cb"),
      { redirect: "manual" },
    );
    expect(web.headers.get("location")).toMatch(/^https:\/\/app\.example\/cb\?code=/);
    const refused = await fetch(
      authorizationUrl(info.endpoints.authorization, "web", "http://localhost:5173/"),
      { redirect: "manual" },
    );
    expect(refused.status).toBe(400);
    const page = await refused.text();
    expect(page).toContain("<code>https://app.example/cb</code>");
    expect(page).toContain("<code>http://127.0.0.1/callback</code>");
    expect(page).not.toContain("5173/</code></li>");
  });

  it("--access-token-user-claims puts the --users-file claims in at+jwt access tokens", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fake-idp-claims-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const usersFile = join(dir, "users.json");
    writeFileSync(usersFile, JSON.stringify({ bob: { claims: { email: "bob@example.com" } } }));
    const info = await startBin(["--users-file", usersFile, "--access-token-user-claims"]);
    const redirectUri = "http://127.0.0.1:49152/callback";
    const { verifier, challenge } = newPkce();
    const url = new URL(info.endpoints.authorization);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: "S256",
      scope: "openid email",
    }).toString();
    const location = (await fetch(url, { redirect: "manual" })).headers.get("location") ?? "";
    const code = new URL(location).searchParams.get("code") ?? "";
    const token = await fetch(info.endpoints.token, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: "latchkey",
      }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const { payload, protectedHeader } = await jwtVerify(
      access_token,
      createRemoteJWKSet(new URL(info.endpoints.jwks)),
      { issuer: info.issuer, audience: "latchkey", typ: "at+jwt" },
    );
    expect(protectedHeader.typ).toBe("at+jwt");
    expect(payload).toMatchObject({
      sub: "bob",
      client_id: "latchkey",
      scope: "openid email",
      email: "bob@example.com",
    });
    expect(payload).toHaveProperty("jti");
  });

  it("exits 2 for a bad --redirect-uri", async () => {
    const child = spawn(process.execPath, [BIN, "--redirect-uri", "/relative"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.once("close", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("--redirect-uri must be an absolute URI without fragment");
  });
});
