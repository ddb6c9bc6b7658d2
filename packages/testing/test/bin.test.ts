import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", () => reject(new Error(`exited before printing: ${stderr}`)));
  });
  firstLine.catch(() => undefined);
  return { child, exit, firstLine, stderr: () => stderr };
}

describe.runIf(existsSync(BIN))("latchkey-fake-idp (needs `pnpm build`)", () => {
  it("prints one JSON line, serves discovery, and exits 0 on SIGTERM", async () => {
    const { child, exit, firstLine } = run([
      "--client",
      "ci:s3cret",
      "--issuer-path",
      "/t",
      "--no-rotation",
    ]);
    try {
      const info = JSON.parse(await firstLine) as {
        issuer: string;
        clients: string[];
        endpoints: { openidConfiguration: string; oauthMetadata: string };
      };
      expect(info.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/t$/);
      expect(info.clients).toEqual(["latchkey", "ci"]);
      const metadata = await (await fetch(info.endpoints.openidConfiguration)).json();
      expect(metadata.issuer).toBe(info.issuer);
      expect((await (await fetch(info.endpoints.oauthMetadata)).json()).issuer).toBe(info.issuer);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exit).toBe(0);
  });

  it("exits 0 on SIGINT too", async () => {
    const { child, exit, firstLine } = run([]);
    await firstLine;
    child.kill("SIGINT");
    expect(await exit).toBe(0);
  });

  it("exits 2 with a message on stderr for bad flags", async () => {
    for (const args of [
      ["--bogus"],
      ["--port", "abc"],
      ["--client", ":x"],
      ["--client", "latchkey"],
      ["extra"],
    ]) {
      const { exit, stderr } = run(args);
      expect(await exit, args.join(" ")).toBe(2);
      expect(stderr()).toMatch(/^latchkey-fake-idp: /);
    }
  });

  it("--help prints usage and exits 0", async () => {
    const { child, exit } = run(["--help"]);
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk.toString();
    });
    expect(await exit).toBe(0);
    expect(stdout).toContain("--client ID[:SECRET]");
  });
});
