// `latchkey token` with a valid stored token is the path kubectl and scripts hit on every call:
// the bin parses it without commander (quick-parse.ts) and loads `src/commands/token.ts` alone of
// the commands. What a run loaded is read from the real process (a load hook, fixtures/
// record-modules.mjs) and traced back to its sources through the bundle's source maps.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it, onTestFinished } from "vitest";
import {
  BROWSER,
  cleanEnv,
  fakeAuthorizationServerForTest,
  latchkey,
  type RunResult,
  tempDir,
} from "./helpers.js";

const RECORD = fileURLToPath(new URL("./fixtures/record-modules.mjs", import.meta.url));
const PACKAGE = fileURLToPath(new URL("..", import.meta.url));

let idp: RunningFakeAuthorizationServer;
let common: string[];
beforeEach(async () => {
  idp = await fakeAuthorizationServerForTest({});
  common = ["--issuer", idp.issuer, "--client-id", "latchkey", "--store", "file"];
  const storeDir = tempDir();
  onTestFinished(() => rmSync(storeDir, { recursive: true, force: true }));
  common.push("--store-dir", storeDir);
});

/** Runs the bin with the load recorder; the sources (package-relative) of what it loaded. */
async function recorded(args: string[]): Promise<RunResult & { sources: string[] }> {
  const result = await latchkey(args, {
    env: cleanEnv({ NODE_OPTIONS: `--import ${JSON.stringify(RECORD)}` }),
  });
  const sources = new Set<string>();
  for (const [, url] of result.stderr.matchAll(/^loaded module: (.+)$/gm)) {
    const file = fileURLToPath(url as string);
    const map = `${file}.map`;
    const listed = existsSync(map)
      ? (JSON.parse(readFileSync(map, "utf8")) as { sources: string[] }).sources.map((source) =>
          resolve(dirname(map), source),
        )
      : [file];
    for (const source of listed) sources.add(relative(PACKAGE, source));
  }
  return { ...result, sources: [...sources] };
}

describe("the bin's hot path", () => {
  it("latchkey token with a valid stored token loads no commander, no program and no other command's module", async () => {
    const login = await latchkey(["login", ...common, "--browser-command", BROWSER]);
    expect(login.code, login.stderr).toBe(0);

    const token = await recorded(["token", "--no-login", ...common]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).not.toBe("");
    expect(token.sources).toContain("src/main.ts");
    expect(token.sources.filter((source) => source.includes("commander"))).toEqual([]);
    expect(token.sources).not.toContain("src/program.ts");
    expect(token.sources).not.toContain("src/options.ts");
    expect(token.sources.filter((source) => source.startsWith("src/commands/"))).toEqual([
      "src/commands/token.ts",
    ]);

    // The recorder sees what commander's path loads: another command goes through the program.
    const status = await recorded(["status", ...common]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.sources).toContain("src/program.ts");
    expect(status.sources.some((source) => source.includes("commander"))).toBe(true);
    expect(status.sources).toContain("src/commands/status.ts");
  });
});
