// S54: the one sanitizer (escapeText) in real Chromium: the same escapes as in Node.
import { describe, expect, it } from "vitest";
import { escapeText } from "../../src/index.js";

describe("S54: escapeText in real Chromium", () => {
  it("escapes controls, line breaks, bidi and format characters, lone surrogates; keeps the rest", () => {
    expect(
      escapeText("a\u001b[2J\nb\u202ec\u2066\u200b\ufeff\u00ad\u2028\ud800\u{e0041} é 日本 😀"),
    ).toBe(
      "a\\x1b[2J\\x0ab\\u202ec\\u2066\\u200b\\ufeff\\xad\\u2028\\ud800\\udb40\\udc41 é 日本 😀",
    );
    expect(escapeText("x".repeat(10), 3)).toBe("xxx");
  });
});
