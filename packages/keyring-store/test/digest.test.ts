import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { randomHex, sha256Hex } from "../src/digest.js";

const reference = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

describe("sha256Hex", () => {
  it("gives the FIPS 180-4 test vectors", () => {
    expect(sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("agrees with node:crypto at every padding boundary, on non-ASCII text and on 1 MB", () => {
    for (let length = 0; length <= 130; length++) {
      const text = "x".repeat(length);
      expect(sha256Hex(text), `length ${length}`).toBe(reference(text));
    }
    for (const text of ["päss-✓-😀", "https%3A%2F%2Fidp|cli|default", "\u0000\uffff"]) {
      expect(sha256Hex(text)).toBe(reference(text));
    }
    const large = randomBytes(768 * 1024).toString("base64");
    expect(sha256Hex(large)).toBe(reference(large));
  });
});

describe("randomHex", () => {
  it("gives fresh hex of the length asked for", async () => {
    const values = await Promise.all(Array.from({ length: 50 }, () => randomHex(16)));
    for (const value of values) expect(value).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(values).size).toBe(50);
  });
});
