import { spawn } from "node:child_process";
import { readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { StoreError, TransportError } from "@latchkey/core";
import { describe, expect, it } from "vitest";
import { createCredentialLock, FileCredentialLock } from "../src/index.js";
import { keyA, otherKeys, rejectionOf, tempDir } from "./helpers.js";
import { runChild } from "./keyring-session.js";

const fixtures = join(import.meta.dirname, "fixtures");

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid;
  await new Promise((resolve) => child.on("exit", resolve));
  if (pid === undefined) throw new Error("no pid");
  return pid;
}

function ownerFile(pid: number, host = hostname()): string {
  return JSON.stringify({ pid, hostname: host, createdAt: Date.now(), token: "someone-else" });
}

describe("FileCredentialLock", () => {
  it("S40: a .lock file per key in the directory, 0600, with pid, hostname and time inside; release removes it", async () => {
    const dir = await tempDir();
    const lock = new FileCredentialLock({ directory: dir });
    const release = await lock.acquire(keyA);
    const path = lock.lockPath(keyA);
    expect(path.startsWith(dir)).toBe(true);
    expect(path).toMatch(/credentials-[0-9a-f]{32}\.lock$/);
    const owner = JSON.parse(await readFile(path, "utf8"));
    expect(owner).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(Math.abs(owner.createdAt - Date.now())).toBeLessThan(5000);
    if (process.platform !== "win32") expect((await stat(path)).mode & 0o777).toBe(0o600);
    const others = await Promise.all(otherKeys.map((key) => lock.acquire(key))); // independent keys
    await release();
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    await release(); // idempotent
    for (const other of others) await other();
    expect(await readdir(dir)).toEqual([]);
  });

  it("S40: a second acquirer waits until the holder releases", async () => {
    const lock = new FileCredentialLock({
      directory: await tempDir(),
      minRetryMs: 1,
      maxRetryMs: 5,
    });
    const release = await lock.acquire(keyA);
    let second = false;
    const waiting = lock.acquire(keyA).then((releaseSecond) => {
      second = true;
      return releaseSecond;
    });
    // The window in which the second acquirer must keep waiting (it retries every 1-5 ms): a
    // negative outcome has no event to wait for, so this sleep is the thing under test.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(second).toBe(false);
    await release();
    await (await waiting)();
    expect(second).toBe(true);
  });

  it("S40: a lock left by a dead process on this host is recovered", async () => {
    const dir = await tempDir();
    // The lock file is fresh (staleMs is 30 s): only seeing its owner dead lets the lock be
    // taken before the waiter gives up (timeoutMs), which would reject with STORE_UNAVAILABLE.
    const lock = new FileCredentialLock({ directory: dir, timeoutMs: 1000 });
    await writeFile(lock.lockPath(keyA), ownerFile(await deadPid()));
    const release = await lock.acquire(keyA);
    expect(JSON.parse(await readFile(lock.lockPath(keyA), "utf8")).pid).toBe(process.pid);
    await release();
  });

  it("S40: a lock untouched for longer than staleMs is recovered, even from a live pid or another host", async () => {
    const dir = await tempDir();
    const lock = new FileCredentialLock({ directory: dir, staleMs: 1000, timeoutMs: 3000 });
    for (const owner of [ownerFile(process.pid), ownerFile(1, "another-host.example")]) {
      await writeFile(lock.lockPath(keyA), owner);
      const old = new Date(Date.now() - 5000);
      await utimes(lock.lockPath(keyA), old, old);
      await (await lock.acquire(keyA))();
    }
  });

  it("S40: a crashed reaper (.lock.reap of a dead process) and an empty lock file are recovered too", async () => {
    const dir = await tempDir();
    const lock = new FileCredentialLock({ directory: dir, staleMs: 1000, timeoutMs: 5000 });
    const dead = await deadPid();
    await writeFile(lock.lockPath(keyA), ownerFile(dead));
    await writeFile(`${lock.lockPath(keyA)}.reap`, ownerFile(dead));
    await (await lock.acquire(keyA))();
    // A holder that died between creating its file and writing its owner: stale once old.
    await writeFile(lock.lockPath(keyA), "");
    const old = new Date(Date.now() - 5000);
    await utimes(lock.lockPath(keyA), old, old);
    await (await lock.acquire(keyA))();
    expect(await readdir(dir)).toEqual([]);
  });

  it("S40: a live lock is not stolen: the waiter gives up after timeoutMs with STORE_UNAVAILABLE", async () => {
    const dir = await tempDir();
    const lock = new FileCredentialLock({ directory: dir, timeoutMs: 300, maxRetryMs: 20 });
    await writeFile(lock.lockPath(keyA), ownerFile(process.pid)); // alive: this very process
    const error = await rejectionOf(lock.acquire(keyA));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect((error as Error).message).toContain(`pid ${process.pid}`);
    expect(JSON.parse(await readFile(lock.lockPath(keyA), "utf8")).token).toBe("someone-else");
  });

  it("S40: a holder's heartbeat keeps its lock from looking stale", async () => {
    const dir = await tempDir();
    const holder = new FileCredentialLock({ directory: dir, staleMs: 900 });
    const release = await holder.acquire(keyA);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // more than twice staleMs
    const waiter = new FileCredentialLock({ directory: dir, staleMs: 900, timeoutMs: 300 });
    await expect(waiter.acquire(keyA)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await release();
    await (await waiter.acquire(keyA))();
  });

  it("S40: an AbortSignal stops the wait with ABORTED (before and while waiting)", async () => {
    const lock = new FileCredentialLock({ directory: await tempDir() });
    const release = await lock.acquire(keyA);
    const controller = new AbortController();
    const waiting = rejectionOf(lock.acquire(keyA, { signal: controller.signal }));
    // Aborted while it waits between attempts (the lock is held): no event marks that moment.
    setTimeout(() => controller.abort(), 50);
    const error = await waiting;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "ABORTED" });
    expect(await rejectionOf(lock.acquire(keyA, { signal: AbortSignal.abort() }))).toMatchObject({
      code: "ABORTED",
    });
    await release();
    await (await lock.acquire(keyA))(); // the aborted waiters left nothing behind
  });

  it("S40: release removes only its own lock (not one that replaced it after a takeover)", async () => {
    const lock = new FileCredentialLock({ directory: await tempDir() });
    const release = await lock.acquire(keyA);
    await writeFile(lock.lockPath(keyA), ownerFile(process.pid)); // someone else's now
    await release();
    expect(JSON.parse(await readFile(lock.lockPath(keyA), "utf8")).token).toBe("someone-else");
  });

  it("S40: no two holders: concurrent in-process acquirers lose no increment", async () => {
    const lock = new FileCredentialLock({
      directory: await tempDir(),
      minRetryMs: 1,
      maxRetryMs: 5,
    });
    let counter = 0;
    let holders = 0;
    let maxHolders = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const release = await lock.acquire(keyA);
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        const value = counter;
        await new Promise((resolve) => setImmediate(resolve)); // others run while it holds the lock
        counter = value + 1;
        holders--;
        await release();
      }),
    );
    expect(counter).toBe(20);
    expect(maxHolders).toBe(1);
  });

  it("S40: no two holders across processes, starting from a stale lock: 6 processes × 25 increments", async () => {
    const dir = await tempDir();
    const counterFile = join(dir, "counter");
    await writeFile(counterFile, "0");
    // A stale lock (dead owner) that every process sees at once.
    const lock = new FileCredentialLock({ directory: dir });
    const counterKey = { issuer: "https://idp.example.com", clientId: "cli", profile: "counter" };
    await writeFile(lock.lockPath(counterKey), ownerFile(await deadPid()));
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        runChild(
          [process.execPath, join(fixtures, "lock-counter.mjs"), dir, counterFile, "25"],
          process.env,
          60_000,
        ),
      ),
    );
    for (const result of results)
      expect(result, result.stderr).toMatchObject({ status: 0, stdout: "DONE\n" });
    expect(await readFile(counterFile, "utf8")).toBe("150");
    expect((await readdir(dir)).sort()).toEqual(["counter"]);
  });

  it("createCredentialLock uses the store directory (default: XDG_DATA_HOME/latchkey)", () => {
    expect(createCredentialLock({ env: { XDG_DATA_HOME: "/data" } }).directory).toBe(
      join("/data", "latchkey"),
    );
    expect(createCredentialLock({ directory: "/somewhere" }).directory).toBe("/somewhere");
    expect(() => createCredentialLock({ directory: "/x", staleMs: -1 })).toThrow(StoreError);
  });
});
