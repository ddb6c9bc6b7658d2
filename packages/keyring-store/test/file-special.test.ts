// Something other than a record at a credentials file's path: a FIFO or a device put there by a
// hostile local process must not block the reader (a synchronous open of a FIFO waits for a
// writer and ignores SIGINT/SIGTERM); it is refused like a corrupt record and left in place.
import { execFileSync, spawn } from "node:child_process";
import { stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileStem } from "../src/file.js";
import { FileTokenStore } from "../src/index.js";
import { keyA, minimalCredentials, rejectionOf, tempDir } from "./helpers.js";

const posix = process.platform !== "win32";
// The FIFO is read in a child process with a watchdog: before the fix, open(2) blocks the reading
// thread for good, which would hang a test worker instead of failing it.

describe.runIf(posix)("FileTokenStore with a special file in place of a record", () => {
  it("a symlink to a character device is refused without reading it", async () => {
    const dir = await tempDir();
    await symlink("/dev/zero", join(dir, `${fileStem(keyA)}.json`));
    const store = new FileTokenStore({ directory: dir });
    const error = await rejectionOf(store.get(keyA));
    expect(error).toMatchObject({ code: "STORE_CORRUPT" });
    expect((error as Error).message).toContain("not a regular file");
  });

  it("a FIFO is STORE_CORRUPT at once (no blocking open(2)), left in place, replaceable", async () => {
    const dir = await tempDir();
    const path = join(dir, `${fileStem(keyA)}.json`);
    execFileSync("mkfifo", ["-m", "600", path]);
    const storeModule = new URL("../dist/index.js", import.meta.url).href;
    const script = `
      const { FileTokenStore } = await import(${JSON.stringify(storeModule)});
      const store = new FileTokenStore({ directory: ${JSON.stringify(dir)} });
      try { await store.get(${JSON.stringify(keyA)}); process.exit(0); }
      catch (error) { console.log(error.code, error.message.includes("not a regular file")); process.exit(3); }
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    // Before the fix the child blocks in open(2) forever: the watchdog kills it and the test fails.
    const watchdog = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on("close", (c, s) => resolve([c, s])),
    );
    clearTimeout(watchdog);
    expect(signal).toBeNull();
    expect(code).toBe(3);
    expect(out.trim()).toBe("STORE_CORRUPT true");
    // It was left in place; a new login replaces it and logout deletes it.
    expect((await stat(path)).isFIFO()).toBe(true);
    const store = new FileTokenStore({ directory: dir });
    await store.set(keyA, minimalCredentials());
    expect((await store.get(keyA))?.accessToken).toBe("at-minimal");
    await store.delete(keyA);
    expect(await store.get(keyA)).toBeUndefined();
  });
});
