import { spawn } from "node:child_process";
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { describe, expect, it } from "vitest";
import {
  BIN,
  cleanEnv,
  cliArgs,
  fakeAuthorizationServerForTest,
  latchkey,
  tempDir,
} from "./helpers.js";

let idp: RunningFakeAuthorizationServer | undefined;

describe("--flow device (RFC 8628)", () => {
  it("S50: prints the verification URI and user code, polls, and stores the result", async () => {
    idp = await fakeAuthorizationServerForTest({
      deviceAutoApprove: true,
      deviceIntervalSeconds: 1,
    });
    const storeDir = tempDir();
    const args = cliArgs({ issuer: idp.issuer, storeDir });
    const login = await latchkey(["login", "--flow", "device", ...args]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toMatch(/visit http:\/\/127\.0\.0\.1:\d+\/device/);
    expect(login.stderr).toMatch(/enter the code: [A-Z0-9-]+/);
    expect(
      idp.count("token", {
        grantType: "urn:ietf:params:oauth:grant-type:device_code",
        status: 200,
      }),
    ).toBe(1);
    expect((await latchkey(["token", "--no-login", ...args])).code).toBe(0);
  });

  it("auto picks the device flow when no browser can be opened and the server offers it", async () => {
    idp = await fakeAuthorizationServerForTest({
      deviceAutoApprove: true,
      deviceIntervalSeconds: 1,
    });
    const result = await latchkey([
      "token",
      "--issuer",
      idp.issuer,
      "--client-id",
      "latchkey",
      "--store",
      "memory",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("using the device flow");
    expect(result.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("a denied device login exits 3", async () => {
    idp = await fakeAuthorizationServerForTest({
      deviceIntervalSeconds: 1,
      faults: [{ name: "device:access_denied" }],
    });
    const result = await latchkey([
      "login",
      "--flow",
      "device",
      "--issuer",
      idp.issuer,
      "--client-id",
      "latchkey",
      "--store",
      "memory",
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("denied");
  });
});

describe("--flow client-credentials", () => {
  it("gets a token for a confidential client; token re-runs the grant when it expires", async () => {
    idp = await fakeAuthorizationServerForTest({
      clients: [{ clientId: "robot", clientSecret: "s3cret" }],
      accessTokenTtlSeconds: 30,
    });
    const storeDir = tempDir();
    const args = [
      "--issuer",
      idp.issuer,
      "--client-id",
      "robot",
      "--flow",
      "client-credentials",
      "--store",
      "file",
      "--store-dir",
      storeDir,
    ];
    const first = await latchkey(["token", ...args], {
      env: cleanEnv({ LATCHKEY_CLIENT_SECRET: "s3cret" }),
    });
    expect(first.code, first.stderr).toBe(0);
    const second = await latchkey(["token", ...args], {
      env: cleanEnv({ LATCHKEY_CLIENT_SECRET: "s3cret" }),
    });
    expect(second.code).toBe(0);
    expect(idp.count("token", { grantType: "client_credentials", status: 200 })).toBe(2);
    expect(idp.requests.find((r) => r.endpoint === "token")?.headers.authorization).toMatch(
      /^Basic /,
    );
  });

  it("without a secret it is a usage error (exit 2)", async () => {
    idp = await fakeAuthorizationServerForTest({});
    const result = await latchkey([
      "token",
      "--issuer",
      idp.issuer,
      "--client-id",
      "robot",
      "--flow",
      "client-credentials",
      "--store",
      "memory",
    ]);
    expect(result.code).toBe(2);
  });
});

describe("--flow paste", () => {
  it("S15: refuses a pasted address with another state, then accepts the real one", async () => {
    idp = await fakeAuthorizationServerForTest({});
    const server = idp;
    const child = spawn(
      process.execPath,
      [
        BIN,
        "login",
        "--flow",
        "paste",
        "--issuer",
        server.issuer,
        "--client-id",
        "latchkey",
        "--store",
        "memory",
      ],
      {
        env: cleanEnv(),
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stderr = "";
    let pasted = false;
    let location: string | undefined;
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.stderr.setEncoding("utf8").on("data", async (chunk: string) => {
      stderr += chunk;
      const match = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(stderr);
      if (match && !pasted && /Paste/.test(stderr)) {
        pasted = true;
        // The user's browser on another machine: it ends on the redirect URI, which fails to load there.
        const answer = await fetch(match[1] as string, { redirect: "manual" });
        location = answer.headers.get("location") as string;
        const forged = location.replace(/state=[^&]+/, "state=forged");
        child.stdin.write(`${forged}\n`);
      } else if (location !== undefined && /warning: [^\n]*state/i.test(stderr)) {
        // The forged paste was refused: now the real address.
        child.stdin.end(`${location}\n`);
        location = undefined;
      }
    });
    const code = await done;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/warning: [^\n]*state/i);
    expect(server.count("token", { grantType: "authorization_code", status: 200 })).toBe(1);
  });
});
