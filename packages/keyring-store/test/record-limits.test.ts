// Issue 13 point 2: a store never writes what it would later call corrupt. The writer checks
// what the reader checks, with the same limits: core's token sets and lengths, and the 1 MiB
// that the file store reads.
import { readFile } from "node:fs/promises";
import { ErrorCode, StoreError } from "@latchkey/core";
import { describe, expect, it } from "vitest";
import { FileTokenStore, MemoryTokenStore } from "../src/index.js";
import { MAX_RECORD_BYTES } from "../src/record.js";
import { fullCredentials, keyA, rejectionOf, tempDir } from "./helpers.js";

const HOSTILE = [
  ["a 2 MB access token", { accessToken: "A".repeat(2 * 1024 * 1024) }],
  ["an access token with terminal escapes", { accessToken: "at\u001b]0;x\u0007\u001b[2J" }],
  ["an access token with a header line", { accessToken: "at\r\nX-Injected: 1" }],
  ["a refresh token with a line break", { refreshToken: "rt\nX" }],
  ["an ID token that is not a compact JWS", { idToken: "a.b\u00a0c.d" }],
  // Within every token limit, but 1.2 MB of UTF-8 (400 000 UTF-16 units).
  ["a 1.2 MB scope", { scope: "\u65e5".repeat(400_000) }],
] as const;

describe("the writer refuses what the reader would refuse (issue 13 point 2)", () => {
  for (const [what, overrides] of HOSTILE) {
    it(`file store: ${what} is STORE_CORRUPT, the previous record intact and readable`, async () => {
      const store = new FileTokenStore({ directory: await tempDir() });
      await store.set(keyA, fullCredentials());
      const before = await readFile(store.filePath(keyA), "utf8");
      const error = await rejectionOf(store.set(keyA, fullCredentials(overrides)));
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ code: ErrorCode.STORE_CORRUPT });
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
      expect((error as Error).message).not.toMatch(/AAAA|\u001b|X-Injected|\u65e5/);
      expect(await readFile(store.filePath(keyA), "utf8")).toBe(before);
      expect(await store.get(keyA)).toEqual(fullCredentials());
    });
  }

  it("the memory store applies the same check", async () => {
    const store = new MemoryTokenStore();
    for (const [, overrides] of HOSTILE) {
      await expect(store.set(keyA, fullCredentials(overrides))).rejects.toMatchObject({
        code: ErrorCode.STORE_CORRUPT,
      });
    }
    expect(await store.get(keyA)).toBeUndefined();
  });

  it("the largest well-formed record is written and read back; its size is under the limit", async () => {
    const store = new FileTokenStore({ directory: await tempDir() });
    const limit = "T".repeat(65_536);
    const credentials = fullCredentials({
      accessToken: limit,
      refreshToken: limit,
      idToken: `${"h".repeat(20_000)}.${"p".repeat(25_534)}.${"s".repeat(20_000)}`,
      scope: "s".repeat(65_536),
    });
    await store.set(keyA, credentials);
    expect(await store.get(keyA)).toEqual(credentials);
    const bytes = (await readFile(store.filePath(keyA))).length;
    expect(bytes).toBeLessThan(MAX_RECORD_BYTES);
  });

  it("an absurd expiresAt written by an older version still reads back (printing it is the CLI's)", async () => {
    const store = new FileTokenStore({ directory: await tempDir() });
    await store.set(keyA, fullCredentials({ expiresAt: 1e300 }));
    expect((await store.get(keyA))?.expiresAt).toBe(1e300);
  });
});
