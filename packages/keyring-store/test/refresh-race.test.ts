import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  beginAuthorization,
  type ClientOptions,
  type Credentials,
  exchangeCode,
  receiveCallback,
  resolveServer,
} from "@latchkey/core";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FileTokenStore } from "../src/index.js";
import { tempDir } from "./helpers.js";

const child = join(import.meta.dirname, "fixtures", "refresh-child.mjs");
const PROCESSES = 5;

let idp: RunningFakeAuthorizationServer;
let client: ClientOptions;

beforeAll(() => {
  if (!existsSync(join(import.meta.dirname, "..", "dist", "index.js"))) {
    throw new Error(
      "The child processes import the built package: run pnpm --filter @latchkey/keyring-store build.",
    );
  }
});

beforeEach(async () => {
  idp = await startFakeAuthorizationServer({ refreshTokenRotation: true });
  client = { issuer: idp.issuer, clientId: "latchkey", scopes: ["openid"] };
});

afterEach(async () => {
  await idp.close();
});

/** A real login against the fake server (its authorization endpoint auto-approves). */
async function login(): Promise<Credentials> {
  const server = await resolveServer(client);
  const { state, authorizationUrl } = await beginAuthorization({
    client,
    server,
    redirectUri: "http://127.0.0.1:53124/callback",
  });
  const response = await idp.fetch(new Request(authorizationUrl));
  const verdict = receiveCallback(state, response.headers.get("location") ?? "");
  if (verdict.outcome !== "accepted") throw verdict.error;
  return (await exchangeCode(verdict.next, { client, server })).credentials;
}

interface ChildOutcome {
  ok: boolean;
  source?: string;
  accessToken?: string;
  code?: string;
}

/**
 * Starts the processes, waits until each has read the (expired) stored token, then lets them
 * all go at once: every process has seen the same expired token before any refresh starts.
 */
async function race(directory: string, mode: "lock" | "nolock"): Promise<ChildOutcome[]> {
  const children: ChildProcessWithoutNullStreams[] = [];
  const outcomes: Promise<ChildOutcome>[] = [];
  const readiness: Promise<void>[] = [];
  for (let index = 0; index < PROCESSES; index++) {
    const process_ = spawn(process.execPath, [child, directory, idp.issuer, mode]);
    children.push(process_);
    let stdout = "";
    let stderr = "";
    let markRead: () => void = () => {};
    readiness.push(
      new Promise((resolve, reject) => {
        markRead = resolve;
        process_.on("close", (status) =>
          reject(new Error(`child ${index} exited ${status} early: ${stdout} ${stderr}`)),
        );
      }),
    );
    process_.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    process_.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("READ\n")) markRead();
    });
    outcomes.push(
      new Promise((resolve, reject) => {
        process_.on("close", (status) => {
          const line = stdout.split("\n").find((text) => text.startsWith("{"));
          if (status !== 0 || line === undefined) {
            reject(new Error(`child ${index} exited ${status}: ${stdout} ${stderr}`));
          } else {
            resolve(JSON.parse(line) as ChildOutcome);
          }
        });
      }),
    );
  }
  await Promise.all(readiness);
  for (const process_ of children) process_.stdin.end("go\n");
  return Promise.all(outcomes);
}

async function storeWithExpiredToken(): Promise<{ directory: string; original: Credentials }> {
  const directory = await tempDir();
  const original = await login();
  await new FileTokenStore({ directory }).set(
    { issuer: idp.issuer, clientId: "latchkey", profile: "default" },
    { ...original, expiresAt: Date.now() - 1000 },
  );
  idp.clearRequests();
  return { directory, original };
}

/** Whether the fake server accepts an access token (UserInfo answers 200). */
async function accepted(accessToken: string): Promise<boolean> {
  const response = await fetch(`${idp.issuer}/userinfo`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return response.status === 200;
}

describe("S40: five processes sharing a file store, with an expired token, rotation on", () => {
  it("S40: with FileCredentialLock: exactly one refresh request, and all five get a valid token", async () => {
    const { directory, original } = await storeWithExpiredToken();
    const outcomes = await race(directory, "lock");

    expect(idp.count("token", { grantType: "refresh_token" })).toBe(1);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(outcomes.filter((outcome) => outcome.source === "refresh")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.source === "store")).toHaveLength(PROCESSES - 1);
    const tokens = new Set(outcomes.map((outcome) => outcome.accessToken));
    expect(tokens.size).toBe(1);
    const [token] = tokens;
    expect(token).not.toBe(original.accessToken);
    expect(await accepted(token ?? "")).toBe(true);
    const stored = await new FileTokenStore({ directory }).get({
      issuer: idp.issuer,
      clientId: "latchkey",
      profile: "default",
    });
    expect(stored?.accessToken).toBe(token);
    expect(stored?.refreshToken).not.toBe(original.refreshToken); // the rotated one was kept (S37)
    expect(
      await new FileTokenStore({ directory }).get({
        issuer: idp.issuer,
        clientId: "latchkey",
        profile: "default",
      }),
    ).toBeDefined();
  });

  it("S40: without the lock (why it exists): every process spends the same refresh token, and the reuse kills the session", async () => {
    const { directory } = await storeWithExpiredToken();
    const outcomes = await race(directory, "nolock");

    // Each process read the expired token before any refreshed, so each sends a refresh request
    // with the same refresh token: the first rotates it, the others reuse a consumed token.
    expect(idp.count("token", { grantType: "refresh_token" })).toBeGreaterThanOrEqual(PROCESSES);
    expect(idp.count("token", { grantType: "refresh_token", status: 200 })).toBe(1);
    // The reuse revokes the whole family (S3): nobody ends up with a working token.
    const failed = outcomes.filter((outcome) => !outcome.ok);
    expect(failed.length).toBeGreaterThanOrEqual(PROCESSES - 1);
    for (const outcome of failed) expect(outcome.code).toBe("INVALID_GRANT");
    for (const outcome of outcomes.filter((o) => o.ok)) {
      expect(await accepted(outcome.accessToken ?? "")).toBe(false);
    }
  });
});
