import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer;
let caFile: string;
beforeAll(async () => {
  idp = await startFakeAuthorizationServer({ https: true });
  caFile = join(tempDir(), "ca.pem");
  writeFileSync(caFile, idp.certificate as string);
});
afterAll(async () => {
  await idp.close();
});

const browser = `${BROWSER} --trust-any-certificate`;

describe("TLS: custom CA and skip-verify", () => {
  it("an untrusted certificate is a network error (exit 5)", async () => {
    expect(idp.issuer).toMatch(/^https:/);
    const result = await latchkey([
      "login",
      "--issuer",
      idp.issuer,
      "--client-id",
      "latchkey",
      "--store",
      "memory",
      "--browser-command",
      browser,
    ]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/Could not reach https:\/\/127\.0\.0\.1:\d+\/\.well-known/);
    expect(result.stderr).toContain(
      "hint: The server's TLS certificate is not trusted: add its CA with --ca-file",
    );
  });

  it("--ca-file trusts the server's CA for every request", async () => {
    const result = await latchkey([
      "login",
      "--ca-file",
      caFile,
      "--issuer",
      idp.issuer,
      "--client-id",
      "latchkey",
      "--store",
      "memory",
      "--browser-command",
      browser,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("warning");
  });

  it("--insecure-skip-tls-verify works, with a warning", async () => {
    const result = await latchkey([
      "login",
      "--insecure-skip-tls-verify",
      "--issuer",
      idp.issuer,
      "--client-id",
      "latchkey",
      "--store",
      "memory",
      "--browser-command",
      browser,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("warning: TLS certificates are not verified");
  });

  it("an unreadable --ca-file is a usage error (exit 2)", async () => {
    const result = await latchkey([
      "login",
      "--ca-file",
      "/nonexistent/ca.pem",
      "--issuer",
      idp.issuer,
      "--client-id",
      "latchkey",
      "--store",
      "memory",
    ]);
    expect(result.code).toBe(2);
  });
});
