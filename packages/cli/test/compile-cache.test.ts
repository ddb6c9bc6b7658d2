// The bin turns on Node's module compile cache (Node >= 22.1) in the user's cache folder: never
// in the temp dir every user of the machine shares, and where NODE_COMPILE_CACHE says if set.
import { existsSync, readdirSync } from "node:fs";
import module from "node:module";
import { join } from "node:path";
import { cleanEnv, latchkey, tempDir } from "@latchkey/test-utils";
import { describe, expect, it } from "vitest";

/** Whether this Node has the compile cache (the bin is run with this very Node). */
const cached =
  typeof (module as { enableCompileCache?: unknown }).enableCompileCache === "function";

/** A user's environment with a temp dir of its own, to see what the run leaves there. */
function user(extra: Record<string, string> = {}): { env: NodeJS.ProcessEnv; tmp: string } {
  const tmp = tempDir("latchkey-tmpdir-");
  const env = cleanEnv({ TMPDIR: tmp });
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  return { env: { ...env, ...extra }, tmp };
}

describe("the compile cache", () => {
  it("is kept in ~/.cache/latchkey/node-compile-cache; nothing is written to the temp dir", async () => {
    const { env, tmp } = user();
    expect((await latchkey(["--version"], { env })).code).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    const cache = join(env.HOME ?? "", ".cache", "latchkey", "node-compile-cache");
    expect(existsSync(cache)).toBe(cached);
  });

  it("follows an absolute XDG_CACHE_HOME, and ignores a relative one", async () => {
    const xdg = tempDir("latchkey-xdg-");
    const absolute = user({ XDG_CACHE_HOME: xdg });
    expect((await latchkey(["--version"], { env: absolute.env })).code).toBe(0);
    expect(existsSync(join(xdg, "latchkey", "node-compile-cache"))).toBe(cached);
    const relative = user({ XDG_CACHE_HOME: "relative/cache" });
    const cwd = tempDir("latchkey-cwd-");
    expect((await latchkey(["--version"], { env: relative.env, cwd })).code).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    const home = join(relative.env.HOME ?? "", ".cache", "latchkey", "node-compile-cache");
    expect(existsSync(home)).toBe(cached);
  });

  it("goes where NODE_COMPILE_CACHE says, and nowhere with NODE_DISABLE_COMPILE_CACHE=1", async () => {
    const chosen = join(tempDir("latchkey-chosen-"), "cache");
    const told = user({ NODE_COMPILE_CACHE: chosen });
    expect((await latchkey(["--version"], { env: told.env })).code).toBe(0);
    expect(existsSync(chosen)).toBe(cached);
    expect(existsSync(join(told.env.HOME ?? "", ".cache"))).toBe(false);
    const off = user({ NODE_DISABLE_COMPILE_CACHE: "1" });
    expect((await latchkey(["--version"], { env: off.env })).code).toBe(0);
    expect(existsSync(join(off.env.HOME ?? "", ".cache"))).toBe(false);
    expect(readdirSync(off.tmp)).toEqual([]);
  });
});
