import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = fileURLToPath(new URL(".", import.meta.url));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

describe("the browser boundary", () => {
  it("core's compiler settings reject Node APIs (a node: import or Buffer does not compile)", () => {
    const dir = mkdtempSync(join(here, "..", ".boundary-"));
    try {
      writeFileSync(
        join(dir, "probe.ts"),
        'import { randomBytes } from "node:crypto";\nexport const x: string = Buffer.from(randomBytes(1)).toString("hex");\n',
      );
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          extends: "../tsconfig.json",
          compilerOptions: { rootDir: ".", noEmit: true },
          include: ["probe.ts"],
        }),
      );
      const result = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], {
        encoding: "utf8",
        // tsc turns on Node's compile cache (Node >= 22), by default in the shared temp dir.
        env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1" },
      });
      expect(result.status).not.toBe(0);
      expect(result.stdout).toMatch(/Cannot find module 'node:crypto'/);
      expect(result.stdout).toMatch(/Cannot find name 'Buffer'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
