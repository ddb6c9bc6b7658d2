// The `latchkey-fake-idp` bin that package.json declares is one bundled module (jose included,
// scripts/bundle.mjs): copied alone into an empty folder, with no node_modules above it and none
// of the package's other files, it still starts and serves discovery and its ES256 key (made with jose), so it
// loads nothing but Node's built-ins.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";

const PACKAGE = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", PACKAGE), "utf8")) as {
  bin: Record<string, string>;
};
const BIN = fileURLToPath(new URL(pkg.bin["latchkey-fake-idp"] ?? "missing", PACKAGE));

describe.runIf(existsSync(BIN))("the bundled latchkey-fake-idp bin (needs `pnpm build`)", () => {
  it("runs alone, copied without the package or node_modules: discovery and a JWKS answer", async () => {
    expect(BIN).toMatch(/[\\/]dist[\\/]bundle[\\/]latchkey-fake-idp\.mjs$/);
    const dir = mkdtempSync(join(tmpdir(), "latchkey-fake-idp-alone-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const alone = join(dir, "latchkey-fake-idp.mjs");
    copyFileSync(BIN, alone);

    const child = spawn(process.execPath, [alone], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    onTestFinished(async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exit;
      }
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk.toString();
    });
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`exited ${code} before printing: ${stderr}`)));
    });
    const { issuer } = JSON.parse(firstLine) as { issuer: string };

    const discovery = await fetch(new URL("/.well-known/openid-configuration", issuer));
    expect(discovery.status).toBe(200);
    const document = (await discovery.json()) as { issuer: string; jwks_uri: string };
    expect(document.issuer).toBe(issuer);
    const jwks = (await (await fetch(document.jwks_uri)).json()) as {
      keys: { kty: string; alg: string }[];
    };
    expect(jwks.keys.map((key) => [key.kty, key.alg])).toEqual([["EC", "ES256"]]);

    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(stderr).toBe("");
  });
});
