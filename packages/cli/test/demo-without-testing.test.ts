// Issue 14 point 5: `@latchkey/testing` is an optional peer of the CLI, loaded only when
// `latchkey demo` runs. The bundled bin is copied where no node_modules can resolve it (as after
// `npm i -g @latchkey/cli` alone): the CLI still starts, and `demo` says in one line what to
// install, with the usage exit code and no stack trace.
import { spawn } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { BIN, cleanEnv, tempDir } from "./helpers.js";

function run(bin: string, args: string[], cwd: string) {
  const env = cleanEnv();
  // pnpm's NODE_PATH would find the workspace's packages from anywhere.
  delete env.NODE_PATH;
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the CLI without @latchkey/testing", () => {
  it("starts, and `latchkey demo` exits 2 saying @latchkey/testing is missing and how to install it", async () => {
    const dir = tempDir("latchkey-cli-bare-");
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(dirname(BIN), dir, { recursive: true });
    const bin = join(dir, "latchkey.mjs");

    const version = await run(bin, ["--version"], dir);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

    const demo = await run(bin, ["demo"], dir);
    expect(demo.code).toBe(2);
    expect(demo.stdout).toBe("");
    expect(demo.stderr).toContain(
      "latchkey demo needs @latchkey/testing, which is not installed: install it next to the CLI, e.g. npm i -g @latchkey/testing",
    );
    expect(demo.stderr).not.toMatch(/^\s+at /m);
    expect(demo.stderr).not.toContain("ERR_MODULE_NOT_FOUND");
  });
});
