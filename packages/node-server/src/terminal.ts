import { escapeText } from "@latchkey/core/store";

/**
 * Makes text from the network safe to write to a terminal (S50, S54): the one sanitizer of
 * `@latchkey/core`, {@link escapeText}, under the name this package has always exported. C0 and
 * C1 controls (ESC, BEL, CR, LF, backspace...), DEL, bidi controls (U+202E...), other format
 * characters (zero-width spaces and joiners, U+FEFF, the soft hyphen), U+2028/U+2029 and lone
 * surrogates are shown as visible escapes (`\x1b`, `\u202e`); everything else as received.
 *
 * @example
 * ```ts
 * escapeTerminal("WDJB-MJHT\x1b[2J"); // "WDJB-MJHT\\x1b[2J"
 * ```
 */
export const escapeTerminal = (text: string): string => escapeText(text);
