import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { credentialKeyId, StoreError } from "@latchkey/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { setFileStoreTestHooks } from "../src/file.js";
import { FileTokenStore } from "../src/index.js";
import {
  fullCredentials,
  keyA,
  minimalCredentials,
  otherKeys,
  rejectionOf,
  tempDir,
} from "./helpers.js";

const isRoot = process.getuid?.() === 0;
const isWindows = process.platform === "win32";

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe("FileTokenStore", () => {
  it("has kind file and an absolute directory", async () => {
    const store = new FileTokenStore({ directory: "relative/store" });
    expect(store.kind).toBe("file");
    expect(store.directory).toBe(join(process.cwd(), "relative/store"));
  });

  it("rejects an empty directory", () => {
    expect(() => new FileTokenStore({ directory: "" })).toThrow(StoreError);
  });

  it("S18: one file per key, named from a SHA-256 of the key, never from the key itself", async () => {
    const dir = await tempDir();
    const store = new FileTokenStore({ directory: dir });
    await store.set(keyA, minimalCredentials());
    for (const key of otherKeys) await store.set(key, minimalCredentials());
    const names = (await readdir(dir)).sort();
    expect(names).toHaveLength(4);
    for (const name of names) expect(name).toMatch(/^credentials-[0-9a-f]{32}\.json$/);
    const hash = createHash("sha256").update(credentialKeyId(keyA)).digest("hex").slice(0, 32);
    expect(store.filePath(keyA)).toBe(join(dir, `credentials-${hash}.json`));
  });

  it("writes the versioned record of @latchkey/core", async () => {
    const dir = await tempDir();
    const store = new FileTokenStore({ directory: dir });
    await store.set(keyA, fullCredentials());
    const record = JSON.parse(await readFile(store.filePath(keyA), "utf8"));
    expect(record).toMatchObject({
      v: 1,
      accessToken: "at-SENTINEL-123",
      refreshToken: "rt-SENTINEL-456",
    });
  });

  it("does not create the directory until something is written", async () => {
    const dir = join(await tempDir(), "not-yet");
    const store = new FileTokenStore({ directory: dir });
    expect(await store.get(keyA)).toBeUndefined();
    await store.delete(keyA);
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  describe.skipIf(isWindows)("permissions (S38)", () => {
    it("S38: creates the directory 0700 (with its parents) and the file 0600", async () => {
      const dir = join(await tempDir(), "a", "b", "latchkey");
      const store = new FileTokenStore({ directory: dir });
      await store.set(keyA, fullCredentials());
      expect(await modeOf(dir)).toBe(0o700);
      expect(await modeOf(store.filePath(keyA))).toBe(0o600);
    });

    it("S38: 0600/0700 even under a umask of 0", async () => {
      const previous = process.umask(0);
      onTestFinished(() => {
        process.umask(previous);
      });
      const dir = join(await tempDir(), "store");
      const store = new FileTokenStore({ directory: dir });
      await store.set(keyA, fullCredentials());
      await store.set(keyA, fullCredentials({ accessToken: "second" }));
      expect(await modeOf(dir)).toBe(0o700);
      expect(await modeOf(store.filePath(keyA))).toBe(0o600);
    });

    it("S38: the file is 0600 from its creation (the temp file already is, before the rename)", async () => {
      const previous = process.umask(0);
      onTestFinished(() => {
        process.umask(previous);
      });
      const dir = await tempDir();
      const store = new FileTokenStore({ directory: dir });
      const seen: number[] = [];
      setFileStoreTestHooks(store, {
        beforeRename: async (tempPath) => {
          seen.push(await modeOf(tempPath));
          expect(tempPath.startsWith(dir)).toBe(true);
        },
      });
      await store.set(keyA, fullCredentials());
      expect(seen).toEqual([0o600]);
    });

    it("S38: an existing 0755 directory is tightened to 0700", async () => {
      const dir = join(await tempDir(), "wide");
      await mkdir(dir);
      await chmod(dir, 0o755);
      const store = new FileTokenStore({ directory: dir });
      await store.set(keyA, minimalCredentials());
      expect(await modeOf(dir)).toBe(0o700);
    });

    it.skipIf(isRoot)(
      "S38: an unreadable directory gives STORE_UNAVAILABLE (skipped as root)",
      async () => {
        const dir = await tempDir();
        const store = new FileTokenStore({ directory: dir });
        await store.set(keyA, minimalCredentials());
        await chmod(dir, 0o000);
        onTestFinished(() => chmod(dir, 0o700));
        expect(await rejectionOf(store.get(keyA))).toMatchObject({
          code: "STORE_UNAVAILABLE",
        });
        expect(await rejectionOf(store.set(keyA, minimalCredentials()))).toMatchObject({
          code: "STORE_UNAVAILABLE",
        });
      },
    );
  });

  describe("corrupt files", () => {
    const cases: ReadonlyArray<[string, string]> = [
      ["not JSON", "SECRET-garbage {"],
      ["truncated JSON", '{"v":1,"accessToken":"SECRET-token","tokenType":"Bea'],
      [
        "another version",
        JSON.stringify({
          ...fullCredentials({ accessToken: "SECRET-v2" }),
          v: 2,
        }),
      ],
      [
        "a missing field",
        JSON.stringify({
          v: 1,
          accessToken: "SECRET-partial",
          tokenType: "Bearer",
        }),
      ],
      ["empty", ""],
    ];

    it.each(cases)(
      "S38: %s → STORE_CORRUPT naming the file; the file is left untouched",
      async (_label, text) => {
        const dir = await tempDir();
        const store = new FileTokenStore({ directory: dir });
        const path = store.filePath(keyA);
        await writeFile(path, text, { mode: 0o600 });
        const before = await stat(path);
        const error = await rejectionOf(store.get(keyA));
        expect(error).toBeInstanceOf(StoreError);
        expect(error).toMatchObject({ code: "STORE_CORRUPT" });
        const message = (error as Error).message;
        expect(message).toContain(path);
        expect(message).toMatch(/delete it/);
        expect(message).toMatch(/log in again/);
        expect(message).not.toContain("SECRET");
        expect(String((error as Error).cause ?? "")).not.toContain("SECRET");
        expect(await readFile(path, "utf8")).toBe(text);
        expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
        // Reading again gives the same answer: nothing was replaced.
        expect(await rejectionOf(store.get(keyA))).toMatchObject({
          code: "STORE_CORRUPT",
        });
      },
    );

    it("a corrupt file of one key does not affect another", async () => {
      const dir = await tempDir();
      const store = new FileTokenStore({ directory: dir });
      const other = otherKeys[0]!;
      await store.set(other, minimalCredentials("fine"));
      await writeFile(store.filePath(keyA), "{", { mode: 0o600 });
      expect((await store.get(other))?.accessToken).toBe("fine");
    });

    it("logging in again (set) replaces a corrupt file", async () => {
      const dir = await tempDir();
      const store = new FileTokenStore({ directory: dir });
      await writeFile(store.filePath(keyA), "{", { mode: 0o600 });
      await store.set(keyA, minimalCredentials("fresh"));
      expect((await store.get(keyA))?.accessToken).toBe("fresh");
    });
  });

  describe("I/O failures (work as root too)", () => {
    it("a directory whose parent is a regular file → STORE_UNAVAILABLE with the path and a cause", async () => {
      const parent = join(await tempDir(), "a-file");
      await writeFile(parent, "not a directory");
      const store = new FileTokenStore({ directory: join(parent, "latchkey") });
      for (const operation of [
        () => store.set(keyA, minimalCredentials()),
        () => store.get(keyA),
        () => store.delete(keyA),
      ]) {
        const error = await rejectionOf(operation());
        expect(error).toBeInstanceOf(StoreError);
        expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
        expect((error as Error).message).toContain(parent);
        expect((error as Error).cause).toMatchObject({ code: "ENOTDIR" });
      }
    });

    it("the directory path is a regular file → STORE_UNAVAILABLE", async () => {
      const path = join(await tempDir(), "a-file");
      await writeFile(path, "x");
      const store = new FileTokenStore({ directory: path });
      expect(await rejectionOf(store.set(keyA, minimalCredentials()))).toMatchObject({
        code: "STORE_UNAVAILABLE",
      });
    });

    it("a directory where the credentials file should be → STORE_UNAVAILABLE, no temp file left", async () => {
      const dir = await tempDir();
      const store = new FileTokenStore({ directory: dir });
      await mkdir(store.filePath(keyA));
      expect(await rejectionOf(store.get(keyA))).toMatchObject({
        code: "STORE_UNAVAILABLE",
      });
      const error = await rejectionOf(store.set(keyA, minimalCredentials()));
      expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect((error as Error).message).toContain(store.filePath(keyA));
      expect((error as Error).message).not.toContain("at-minimal");
      expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    });

    it("a failed write keeps the previous record and removes its temp file", async () => {
      const dir = await tempDir();
      const store = new FileTokenStore({ directory: dir });
      await store.set(keyA, minimalCredentials("old"));
      setFileStoreTestHooks(store, {
        beforeRename: () => {
          throw Object.assign(new Error("disk full"), { code: "ENOSPC" });
        },
      });
      const error = await rejectionOf(store.set(keyA, minimalCredentials("new")));
      expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect((error as Error).message).toContain("ENOSPC");
      expect((await store.get(keyA))?.accessToken).toBe("old");
      expect(await readdir(dir)).toEqual([store.filePath(keyA).slice(dir.length + 1)]);
    });
  });

  describe("leftover temporary files", () => {
    it("S38: are never read as credentials", async () => {
      const dir = await tempDir();
      const store = new FileTokenStore({ directory: dir });
      const stem = store.filePath(keyA).slice(dir.length + 1, -".json".length);
      await writeFile(
        join(dir, `.${stem}.123-abc.tmp`),
        JSON.stringify({ v: 1, ...minimalCredentials("tmp") }),
      );
      expect(await store.get(keyA)).toBeUndefined();
    });

    it("stale ones of the same key are removed by the next write or delete; fresh ones are kept", async () => {
      const dir = await tempDir();
      const store = new FileTokenStore({ directory: dir });
      const stem = store.filePath(keyA).slice(dir.length + 1, -".json".length);
      const stale = join(dir, `.${stem}.1-aaaa.tmp`);
      const fresh = join(dir, `.${stem}.2-bbbb.tmp`);
      const otherKeyStale = join(dir, ".credentials-0123456789abcdef0123456789abcdef.3-cccc.tmp");
      for (const path of [stale, fresh, otherKeyStale])
        await writeFile(path, "partial", { mode: 0o600 });
      const old = new Date(Date.now() - 10 * 60_000);
      await utimes(stale, old, old);
      await utimes(otherKeyStale, old, old);
      await store.set(keyA, minimalCredentials());
      const names = await readdir(dir);
      expect(names).not.toContain(stale.slice(dir.length + 1));
      expect(names).toContain(fresh.slice(dir.length + 1));
      expect(names).toContain(otherKeyStale.slice(dir.length + 1));
      await utimes(fresh, old, old);
      await store.delete(keyA);
      expect(await readdir(dir)).toEqual([otherKeyStale.slice(dir.length + 1)]);
    });
  });
});
