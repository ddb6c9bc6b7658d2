/**
 * `@latchkey/core/callback`: judging what comes back from the browser, without any I/O. A
 * callback request's URL is judged by {@link receiveCallback}; an address the user pasted by
 * {@link judgePastedCallback}, which reduces it to the same judgement. Kept out of the main entry
 * so that a browser app that never reads pastes does not carry it.
 *
 * @example
 * ```ts
 * import { judgePastedCallback } from "@latchkey/core/callback";
 * const verdict = judgePastedCallback(state, line);
 * if (verdict?.outcome === "accepted") await exchangeCode(verdict.next, { client, server });
 * ```
 */
import { ErrorCode, ProtocolError } from "./errors.js";
import type { AwaitingCallbackState } from "./flow-state.js";
import { type CallbackVerdict, receiveCallback } from "./receive-callback.js";

export type { CallbackVerdict } from "./receive-callback.js";
export { receiveCallback } from "./receive-callback.js";

/**
 * Judges one pasted line against the waiting login, exactly as a callback would be judged
 * ({@link receiveCallback}: duplicates, `state`, `iss`, `error`). Accepted: the full redirect
 * address (it must start with the redirect URI sent), or its query string alone. A bare code is
 * refused: it carries no `state`, so nothing would tie it to this login (S15); accepting it would
 * let anyone who gets the user to paste their code log this machine into their account.
 * Surrounding blanks, quotes and `<>` are ignored. Returns `undefined` for a blank line.
 *
 * @example
 * ```ts
 * judgePastedCallback(state, "SplxlOBeZQQYbYS6WxSbIA")?.outcome; // "ignored" (STATE_MISMATCH)
 * judgePastedCallback(state, `${state.redirectUri}?code=c&state=${state.state}`)?.outcome; // "accepted"
 * ```
 */
export function judgePastedCallback(
  state: AwaitingCallbackState,
  pasted: string,
): CallbackVerdict | undefined {
  let text = pasted.trim();
  if (/^<.*>$/s.test(text) || /^(["']).*\1$/s.test(text)) text = text.slice(1, -1).trim();
  if (text === "") return undefined;
  const expected = new URL(state.redirectUri);
  const refuse = (code: ErrorCode, message: string): CallbackVerdict => ({
    outcome: "ignored",
    error: new ProtocolError(code, message),
  });
  let url: URL;
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !/^[\w.~-]+=/.test(text)) {
    try {
      url = new URL(text);
    } catch {
      return refuse(ErrorCode.CALLBACK_INVALID, "That is not a valid address.");
    }
    if (url.origin !== expected.origin || url.pathname !== expected.pathname) {
      return refuse(
        ErrorCode.CALLBACK_INVALID,
        `That is not the address the login ended on; paste the one that starts with ${expected.origin}${expected.pathname}?`,
      );
    }
  } else if (text.startsWith("?") || /^[\w.~-]+=/.test(text)) {
    url = new URL(expected.href);
    url.search = text.startsWith("?") ? text : `?${text}`;
  } else {
    return refuse(
      ErrorCode.STATE_MISMATCH,
      "A code alone cannot be checked against this login (it carries no state); paste the whole address from the browser's address bar.",
    );
  }
  if (url.search === "" && url.hash !== "") {
    return refuse(
      ErrorCode.CALLBACK_INVALID,
      "That address has no query string; paste the whole address from the browser's address bar.",
    );
  }
  return receiveCallback(state, url);
}
