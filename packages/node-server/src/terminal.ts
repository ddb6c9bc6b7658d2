/**
 * Makes text from the network safe to write to a terminal (S50): C0 and C1 control characters
 * (ESC, BEL, CR, backspace...), DEL and the Unicode bidirectional overrides are shown as visible
 * escapes (`\x1b`, `\u202e`) instead of being interpreted. Everything else is shown as received.
 *
 * @example
 * ```ts
 * escapeTerminal("WDJB-MJHT\x1b[2J"); // "WDJB-MJHT\\x1b[2J"
 * ```
 */
export function escapeTerminal(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
    const bidi =
      code === 0x061c ||
      code === 0x200e ||
      code === 0x200f ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069);
    if (control) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (bidi) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += char;
  }
  return out;
}
