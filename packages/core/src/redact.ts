/**
 * A URL without its query and fragment (where codes, `state` and tokens travel), for messages
 * and logs (S42). Text that is not a URL becomes `(invalid URL)`.
 *
 * @example
 * ```ts
 * redactUrl("https://as.example/cb?code=secret#x"); // "https://as.example/cb"
 * ```
 */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * Makes text from a server or a callback safe to show on a terminal or a page (S54): each code
 * point of Unicode categories Cc (C0 and C1 controls, DEL, CR, LF, tab), Cf (format characters:
 * the bidi controls U+061C, U+200E–F, U+202A–E, U+2066–9, the zero-width U+200B–D and
 * U+2060–4, U+FEFF, the soft hyphen U+00AD, tag characters), Zl and Zp (U+2028, U+2029) and Cs
 * (a lone surrogate) becomes a visible escape (`\x1b`, `\x0a`, `\u202e`; one `\uXXXX` per UTF-16
 * unit above U+FFFF) instead of being dropped or interpreted. So one value stays on one line and
 * reads in the order it was sent. Everything else passes unchanged (`é`, `日本`, `☕`, `\`, an
 * emoji; the joiner inside an emoji ZWJ sequence shows as `\u200d`); escaping twice changes
 * nothing. With `max`, only the first `max` UTF-16 units are kept (before escaping).
 *
 * @example
 * ```ts
 * escapeText("alice\nLogged in: no"); // "alice\\x0aLogged in: no"
 * escapeText("\u202emallory"); // "\\u202emallory"
 * escapeText("x".repeat(500), 300).length; // 300
 * ```
 */
export const escapeText = (text: string, max?: number): string =>
  text.slice(0, max).replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, (c) =>
    escape(c)
      .replace(/%(?!u)/g, "\\x")
      .replace(/%/g, "\\")
      .toLowerCase(),
  );
