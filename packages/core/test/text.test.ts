import { createFakeAuthorizationServer } from "@latchkey/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sanitizeDescription } from "../src/http.js";
import {
  type AwaitingCallbackState,
  clientCredentialsGrant,
  ErrorCode,
  escapeText,
  ProtocolError,
  receiveCallback,
  resolveServer,
} from "../src/index.js";
import * as coreStore from "../src/store.js";
import { toCredentials } from "../src/tokens.js";

// S54: the one sanitizer for text from a server or a callback (issue 12 point 13, issue 13
// point 4). Seeds are fixed so that a failure reproduces.
const RUNS = { numRuns: 500, seed: 0x5a54 };

/**
 * What must never reach a terminal, written out from the Unicode tables independently of the
 * implementation's regex: C0, DEL, C1, the bidi controls, the other format characters of the
 * BMP, U+2028/U+2029, surrogates (a well-formed pair is checked as a whole code point below).
 */
const FORBIDDEN_RANGES: readonly [number, number][] = [
  [0x0000, 0x001f],
  [0x007f, 0x009f],
  [0x00ad, 0x00ad],
  [0x0600, 0x0605],
  [0x061c, 0x061c],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2064],
  [0x2066, 0x206f],
  [0xd800, 0xdfff],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
  [0x110bd, 0x110bd],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
];
const forbidden = (cp: number): boolean => FORBIDDEN_RANGES.some(([a, b]) => cp >= a && cp <= b);

/** The code points of a string, a lone surrogate counting as one. */
const codePoints = (text: string): number[] => [...text].map((c) => c.codePointAt(0) as number);

/** Reverses the escapes (only meaningful for input without a backslash). */
const decodeEscapes = (text: string): string =>
  text.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/g, (_, x: string | undefined, u: string) =>
    String.fromCharCode(Number.parseInt(x ?? u, 16)),
  );

const NORMAL = [
  "é",
  "日本",
  "認証",
  "😀",
  "👍🏽",
  "🇫🇷",
  "☕",
  "e\u0301",
  "한",
  "א",
  "مرحبا",
  "\u00a0",
  "\u3000",
  "Ω",
  "\ufffd",
  "𝔘",
];

describe("escapeText: one sanitizer for server and callback text (S54)", () => {
  it.each([
    // [class, input, shown]
    ["NUL", "a\u0000b", "a\\x00b"],
    ["BEL", "\u0007", "\\x07"],
    ["backspace", "x\u0008y", "x\\x08y"],
    ["tab", "a\tb", "a\\x09b"],
    ["line feed", "alice\nLogged in: no", "alice\\x0aLogged in: no"],
    ["carriage return", "ok\r  fake", "ok\\x0d  fake"],
    ["CRLF", "a\r\nX-Injected: 1", "a\\x0d\\x0aX-Injected: 1"],
    ["vertical tab, form feed", "\u000b\u000c", "\\x0b\\x0c"],
    ["ESC (CSI clear screen)", "\u001b[2J", "\\x1b[2J"],
    ["ESC (OSC title, BEL)", "\u001b]0;pwned\u0007", "\\x1b]0;pwned\\x07"],
    ["unit separator", "\u001f", "\\x1f"],
    ["DEL", "\u007f", "\\x7f"],
    ["C1 padding", "\u0080", "\\x80"],
    ["C1 NEL", "a\u0085b", "a\\x85b"],
    ["C1 CSI", "\u009b31m", "\\x9b31m"],
    ["C1 APC", "\u009f", "\\x9f"],
    ["soft hyphen", "exam\u00adple", "exam\\xadple"],
    ["Arabic letter mark", "\u061c", "\\u061c"],
    ["LRM, RLM", "\u200e\u200f", "\\u200e\\u200f"],
    ["LRE, RLE, PDF, LRO", "\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"],
    ["RLO", "\u202emallory", "\\u202emallory"],
    ["LRI, RLI, FSI, PDI", "\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"],
    ["zero-width space", "ad\u200bmin", "ad\\u200bmin"],
    ["ZWNJ, ZWJ", "\u200c\u200d", "\\u200c\\u200d"],
    [
      "word joiner ... invisible plus",
      "\u2060\u2061\u2062\u2063\u2064",
      "\\u2060\\u2061\\u2062\\u2063\\u2064",
    ],
    ["BOM / ZWNBSP", "\ufeffx", "\\ufeffx"],
    ["line separator", "a\u2028b", "a\\u2028b"],
    ["paragraph separator", "a\u2029b", "a\\u2029b"],
    ["Mongolian vowel separator", "\u180e", "\\u180e"],
    ["Arabic number sign", "\u0600", "\\u0600"],
    ["interlinear annotation", "\ufff9x\ufffa", "\\ufff9x\\ufffa"],
    ["lone high surrogate", "a\ud800b", "a\\ud800b"],
    ["lone low surrogate", "\udfff", "\\udfff"],
    ["surrogates in the wrong order", "\udc00\ud800", "\\udc00\\ud800"],
    ["tag characters (hidden ASCII)", "ok\u{e0041}\u{e0042}", "ok\\udb40\\udc41\\udb40\\udc42"],
    ["language tag", "\u{e0001}", "\\udb40\\udc01"],
    ["musical format", "\u{1d173}", "\\ud834\\udd73"],
  ])("%s is shown as an escape", (_class, input, shown) => {
    expect(escapeText(input)).toBe(shown);
  });

  it.each(NORMAL)("%s passes unchanged", (text) => {
    expect(escapeText(text)).toBe(text);
  });

  it("passes printable ASCII, backslashes included, unchanged", () => {
    let ascii = "";
    for (let c = 0x20; c < 0x7f; c++) ascii += String.fromCharCode(c);
    expect(escapeText(ascii)).toBe(ascii);
    expect(escapeText("C:\\Users\\x1b")).toBe("C:\\Users\\x1b");
  });

  it("max keeps the first max UTF-16 units, cut before escaping", () => {
    expect(escapeText("x".repeat(500), 300)).toBe("x".repeat(300));
    expect(escapeText("\u001b[2J", 1)).toBe("\\x1b");
    expect(escapeText("abc", 10)).toBe("abc");
    expect(sanitizeDescription(undefined)).toBe("");
    expect(sanitizeDescription(`${"d".repeat(299)}\n\u202e`)).toBe(`${"d".repeat(299)}\\x0a`);
  });

  it("is exported by @latchkey/core/store too (no protocol code needed to print)", () => {
    expect(coreStore.escapeText).toBe(escapeText);
  });

  const anyUnit = fc.oneof(
    fc.string({ unit: "binary" }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)) }),
    fc.string({
      unit: fc.constantFrom(
        "\u001b",
        "\n",
        "\r",
        "\u202e",
        "\u2066",
        "\u200d",
        "\ufeff",
        "\u2028",
        "\ud800",
        "\u{e0041}",
        "\u0085",
        "a",
        "日",
        "😀",
      ),
    }),
  );

  it("property: the output never contains a control, bidi, format, separator or lone surrogate", () => {
    fc.assert(
      fc.property(anyUnit, fc.option(fc.nat(400), { nil: undefined }), (text, max) => {
        const out = escapeText(text, max);
        expect(codePoints(out).filter(forbidden)).toEqual([]);
        expect(out).not.toMatch(/[\n\r]/);
      }),
      RUNS,
    );
  });

  it("property: nothing is dropped (the escapes decode back to the input) and escaping twice changes nothing", () => {
    fc.assert(
      fc.property(anyUnit, (raw) => {
        const text = raw.replaceAll("\\", "/");
        const out = escapeText(text);
        expect(decodeEscapes(out)).toBe(text);
        expect(escapeText(out)).toBe(out);
      }),
      RUNS,
    );
  });

  it("property: printable ASCII and ordinary Unicode (letters, CJK, emoji, marks, spaces) pass unchanged", () => {
    const normal = fc.string({
      unit: fc.oneof(
        fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)),
        fc.constantFrom(...NORMAL),
        fc.string({ unit: "grapheme" }).filter((g) => !codePoints(g).some(forbidden)),
      ),
    });
    fc.assert(
      fc.property(normal, (text) => {
        expect(escapeText(text)).toBe(text);
      }),
      RUNS,
    );
  });
});

describe("core messages quote server and callback text through escapeText (issue 13 point 4)", () => {
  const waiting: AwaitingCallbackState = {
    status: "awaiting-callback",
    expectedIssuer: "https://as.example",
    issRequired: false,
    clientId: "cli",
    redirectUri: "http://127.0.0.1:53124/callback",
    state: "s".repeat(43),
    codeVerifier: "v".repeat(64),
    nonce: "n".repeat(43),
    scope: "openid",
    startedAt: 1,
  };

  it("a callback's error and error_description cannot add lines or reorder the message", () => {
    const url = new URL(waiting.redirectUri);
    url.searchParams.set("state", waiting.state);
    url.searchParams.set("error", "access_denied\u202e");
    url.searchParams.set("error_description", "denied\nLogged in: yes\u2066\u200b\u001b[2J");
    const verdict = receiveCallback(waiting, url);
    expect(verdict.outcome).toBe("failed");
    const message = verdict.outcome === "accepted" ? "" : verdict.error.message;
    expect(message).toBe(
      "The authorization server refused the login (access_denied\\u202e): denied\\x0aLogged in: yes\\u2066\\u200b\\x1b[2J.",
    );
  });

  it("a repeated parameter's name is escaped, and cut before escaping", () => {
    const url = new URL(`${waiting.redirectUri}?a%E2%80%AEb=1&a%E2%80%AEb=2`);
    const verdict = receiveCallback(waiting, url);
    expect(verdict.outcome === "accepted" ? "" : verdict.error.message).toBe(
      'The callback repeats the parameter "a\\u202eb".',
    );
  });

  it("a token_type is escaped", () => {
    let error: unknown;
    try {
      toCredentials(
        { access_token: "at", token_type: "mac\u202e\nx" },
        { issuer: "https://as.example", clientId: "cli", receivedAt: 0 },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toContain('"mac\\u202e\\x0ax"');
  });
});

describe("a token endpoint's error and error_description (mapOauthError)", () => {
  it("are quoted escaped, on one line", async () => {
    const idp = await createFakeAuthorizationServer({
      issuer: "http://127.0.0.1:4000/hostile",
      clients: [{ clientId: "svc", clientSecret: "s3cret" }],
    });
    const client = {
      issuer: idp.issuer,
      clientId: "svc",
      clientSecret: "s3cret",
      fetch: (input: RequestInfo | URL, init?: RequestInit) => idp.fetch(new Request(input, init)),
    };
    const server = await resolveServer(client, { cache: false });
    idp.once("token", () =>
      Response.json(
        {
          error: "invalid_scope\n",
          error_description: "Nope.\r\nLogged in: yes\u202e\u2069\u200b\u001b[2J",
        },
        { status: 400, headers: { "cache-control": "no-store" } },
      ),
    );
    const error = await clientCredentialsGrant({ client, server }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    // "invalid_scope\n" is not invalid_scope: an unknown error value is a refused grant.
    expect(error).toMatchObject({ code: ErrorCode.INVALID_GRANT });
    expect((error as Error).message).toBe(
      "The client credentials request was rejected (invalid_scope\\x0a): Nope.\\x0d\\x0aLogged in: yes\\u202e\\u2069\\u200b\\x1b[2J.",
    );
    // What the server sent stays available as sent, for programs.
    expect((error as ProtocolError).oauth?.errorDescription).toContain("\u202e");
  });
});
