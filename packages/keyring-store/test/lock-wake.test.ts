import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { readFile, rename, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { StoreError, TransportError } from "@latchkey/core";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { FileCredentialLock } from "../src/index.js";
import { keyA, rejectionOf, tempDir } from "./helpers.js";

// A waiter watches the lock directory and retries as soon as the holder removes the lock file,
// instead of sleeping out its back-off (issue 15, "many processes"). Shown by events: waiters
// with a one-minute back-off still get in before the test's timeout.

const child = join(import.meta.dirname, "fixtures", "lock-wait-child.mjs");
const linux = process.platform === "linux";
/** Far more than the test timeout: a waiter that only polls never gets in. */
const MINUTE = 60_000;

/** The inotify watches this process holds (Linux: the `inotify wd:` lines of its inotify fds). */
function inotifyWatches(pid: number | "self" = "self"): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (!readlinkSync(`/proc/${pid}/fd/${fd}`).includes("inotify")) continue;
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8");
      count += info.match(/^inotify wd:/gm)?.length ?? 0;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

/** Resolves once `condition()` holds, checking it on every turn of a short timer. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}

function ownerFile(pid: number): string {
  return JSON.stringify({ pid, hostname: hostname(), createdAt: Date.now(), token: "other" });
}

beforeAll(() => {
  if (!existsSync(join(import.meta.dirname, "..", "dist", "index.js"))) {
    throw new Error(
      "The child processes import the built package: run pnpm --filter @latchkey/keyring-store build.",
    );
  }
});

describe("FileCredentialLock wakes its waiters", () => {
  it.skipIf(process.platform === "win32")(
    "a waiter in another process with a one-minute back-off acquires right after the holder releases, then exits by itself",
    async () => {
      const dir = await tempDir();
      // staleMs long: no heartbeat touches the file during the test.
      const holder = new FileCredentialLock({ directory: dir, staleMs: 10 * MINUTE });
      const release = await holder.acquire(keyA);
      const path = holder.lockPath(keyA);
      // The waiter's first attempt reads the owner inside: with an atime older than the mtime,
      // that read moves the atime (relatime, strictatime). So its first attempt has failed, and
      // its next one is a minute away, once the atime moved.
      await utimes(path, 0, new Date());
      const waiter = spawn(process.execPath, [child, dir, JSON.stringify(keyA)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      waiter.stdout.on("data", (chunk) => (stdout += chunk));
      waiter.stderr.on("data", (chunk) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => waiter.on("exit", resolve));
      try {
        await until(async () => (await stat(path)).atimeMs > 0 || waiter.exitCode !== null);
        expect(stdout).toBe("");
        await release();
        expect(await exited).toBe(0);
        expect(stderr).toBe("");
        expect(stdout).toBe("ACQUIRED\n");
        expect(readdirSync(dir)).toEqual([]);
      } finally {
        waiter.kill();
      }
    },
  );

  it.skipIf(!linux)(
    "the watcher is armed while waiting and closed on every exit: acquired, aborted, timed out, I/O error",
    async () => {
      const dir = await tempDir();
      const before = inotifyWatches();
      const holder = new FileCredentialLock({ directory: dir });
      const slow = new FileCredentialLock({
        directory: dir,
        minRetryMs: MINUTE,
        maxRetryMs: MINUTE,
      });
      let release = await holder.acquire(keyA);
      expect(inotifyWatches()).toBe(before); // a holder that never waited has none

      // Acquired (woken by the release).
      const acquired = slow.acquire(keyA);
      await until(() => inotifyWatches() === before + 1);
      await release();
      release = await acquired;
      expect(inotifyWatches()).toBe(before);

      // Aborted.
      const controller = new AbortController();
      const aborted = rejectionOf(slow.acquire(keyA, { signal: controller.signal }));
      await until(() => inotifyWatches() === before + 1);
      controller.abort();
      const abortError = await aborted;
      expect(abortError).toBeInstanceOf(TransportError);
      expect(abortError).toMatchObject({ code: "ABORTED" });
      expect(inotifyWatches()).toBe(before);

      // Timed out.
      const impatient = new FileCredentialLock({ directory: dir, timeoutMs: 50, maxRetryMs: 10 });
      const timeoutError = await rejectionOf(impatient.acquire(keyA));
      expect(timeoutError).toBeInstanceOf(StoreError);
      expect(timeoutError).toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(inotifyWatches()).toBe(before);

      // An I/O error: the lock directory is moved away and a file takes its place while a
      // waiter waits; removing the lock file (in the moved directory) wakes it.
      const broken = slow.acquire(keyA);
      await until(() => inotifyWatches() === before + 1);
      const moved = `${dir}.moved`;
      onTestFinished(() => rm(moved, { recursive: true, force: true }));
      await rename(dir, moved);
      await writeFile(dir, "not a directory");
      await unlink(join(moved, basename(holder.lockPath(keyA))));
      const ioError = await rejectionOf(broken);
      expect(ioError).toBeInstanceOf(StoreError);
      expect(ioError).toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect(inotifyWatches()).toBe(before);
      await release(); // its file is gone: nothing to remove, no error
    },
  );

  it.skipIf(!linux)(
    "watch: false: no watcher, and the back-off alone still gets the lock after the release",
    async () => {
      const dir = await tempDir();
      const before = inotifyWatches();
      const holder = new FileCredentialLock({ directory: dir });
      const release = await holder.acquire(keyA);
      const path = holder.lockPath(keyA);
      await utimes(path, 0, new Date());
      const polling = new FileCredentialLock({
        directory: dir,
        watch: false,
        minRetryMs: 1,
        maxRetryMs: 5,
      });
      const waiting = polling.acquire(keyA);
      await until(async () => (await stat(path)).atimeMs > 0); // it has tried once and waits
      expect(inotifyWatches()).toBe(before);
      await release();
      await (await waiting)();
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it.skipIf(process.platform === "win32")(
    "a watched waiter whose holder goes stale without removing its file (no event) takes it over by the back-off",
    async () => {
      const dir = await tempDir();
      const waiter = new FileCredentialLock({
        directory: dir,
        staleMs: 1000,
        minRetryMs: 1,
        maxRetryMs: 5,
      });
      const path = waiter.lockPath(keyA);
      await writeFile(path, ownerFile(process.pid)); // alive: this very process
      await utimes(path, 0, new Date());
      const waiting = waiter.acquire(keyA);
      await until(async () => (await stat(path)).atimeMs > 0); // tried once: fresh and alive
      // Only an attribute change, which wakes nobody: the back-off finds it stale.
      const old = new Date(Date.now() - 60_000);
      await utimes(path, old, old);
      const release = await waiting;
      expect(JSON.parse(await readFile(path, "utf8")).pid).toBe(process.pid);
      expect(JSON.parse(await readFile(path, "utf8")).token).not.toBe("other");
      await release();
      expect(readdirSync(dir)).toEqual([]);
    },
  );
});
