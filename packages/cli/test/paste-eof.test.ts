// Issue 12 point 4: the end of stdin during the paste flow is a login not completed (exit 3),
// not an interrupt (130, kept for Ctrl-C).
import { spawn } from "node:child_process";
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { describe, expect, it } from "vitest";
import { BIN, cleanEnv, fakeAuthorizationServerForTest, latchkey } from "./helpers.js";

let idp: RunningFakeAuthorizationServer | undefined;

const args = (issuer: string): string[] => [
  "login",
  "--flow",
  "paste",
  "--issuer",
  issuer,
  "--client-id",
  "latchkey",
  "--store",
  "memory",
];

describe("--flow paste with stdin at its end", () => {
  it("stdin from /dev/null: exit 3 with a message, no token request", async () => {
    idp = await fakeAuthorizationServerForTest({});
    // helpers' latchkey() runs the bin with stdin "ignore", i.e. /dev/null.
    const result = await latchkey(args(idp.issuer));
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/no redirect address was pasted: the input ended/i);
    expect(result.stderr).not.toMatch(/was cancelled/i);
    expect(idp.count("token")).toBe(0);
  });

  it("a pipe closed after the prompt: exit 3, not 130", async () => {
    idp = await fakeAuthorizationServerForTest({});
    const child = spawn(process.execPath, [BIN, ...args(idp.issuer)], {
      env: cleanEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (/Paste that page's full address/.test(stderr)) child.stdin.end();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(/no redirect address was pasted: the input ended/i);
    expect(idp.count("token")).toBe(0);
  });
});
