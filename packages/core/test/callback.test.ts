import { describe, expect, it } from "vitest";
import { type CallbackVerdict, judgePastedCallback, receiveCallback } from "../src/callback.js";
import {
  type AwaitingCallbackState,
  ErrorCode,
  receiveCallback as fromMain,
} from "../src/index.js";

const state: AwaitingCallbackState = {
  status: "awaiting-callback",
  expectedIssuer: "https://as.example",
  issRequired: true,
  clientId: "cli",
  redirectUri: "http://127.0.0.1:53124/callback",
  state: "the-state-value",
  codeVerifier: "v".repeat(43),
  startedAt: 0,
};
const ISS = encodeURIComponent("https://as.example");
const QUERY = `code=c&state=the-state-value&iss=${ISS}`;

function codeOf(verdict: CallbackVerdict | undefined): string | undefined {
  return verdict && "error" in verdict ? verdict.error.code : undefined;
}

describe("@latchkey/core/callback: judging a pasted redirect address", () => {
  it("accepts the whole address, quoted or bracketed, and its query alone", () => {
    for (const line of [
      `${state.redirectUri}?${QUERY}`,
      `  "${state.redirectUri}?${QUERY}"  `,
      `<${state.redirectUri}?${QUERY}>`,
      `?${QUERY}`,
      QUERY,
    ]) {
      const verdict = judgePastedCallback(state, line);
      expect(verdict?.outcome, line).toBe("accepted");
      if (verdict?.outcome === "accepted") {
        expect(new URLSearchParams(verdict.next.callbackQuery).get("code")).toBe("c");
      }
    }
  });

  it("a blank line is no verdict", () => {
    expect(judgePastedCallback(state, "")).toBeUndefined();
    expect(judgePastedCallback(state, ' "" ')).toBeUndefined();
  });

  it("S15: a bare code is refused (no state ties it to this login), and so is code#state", () => {
    for (const line of ["SplxlOBeZQQYbYS6WxSbIA", "SplxlOBeZQQYbYS6WxSbIA#the-state-value"]) {
      const verdict = judgePastedCallback(state, line);
      expect(verdict?.outcome).toBe("ignored");
      expect(codeOf(verdict)).toBe(ErrorCode.STATE_MISMATCH);
    }
  });

  it("S7: another port, host, scheme or path is not the address the login ended on", () => {
    for (const line of [
      `http://127.0.0.1:53125/callback?${QUERY}`,
      `http://localhost:53124/callback?${QUERY}`,
      `https://127.0.0.1:53124/callback?${QUERY}`,
      `http://127.0.0.1:53124/callback/x?${QUERY}`,
      "http://[::1",
    ]) {
      const verdict = judgePastedCallback(state, line);
      expect(verdict?.outcome, line).toBe("ignored");
      expect(codeOf(verdict), line).toBe(ErrorCode.CALLBACK_INVALID);
      expect(
        JSON.stringify(verdict && "error" in verdict ? verdict.error.message : ""),
        line,
      ).not.toContain("the-state-value");
    }
  });

  it("an address with its query in the fragment only is refused", () => {
    const verdict = judgePastedCallback(state, `${state.redirectUri}#${QUERY}`);
    expect(codeOf(verdict)).toBe(ErrorCode.CALLBACK_INVALID);
  });

  it("S15 S16 S17: a paste is judged exactly as the callback itself", () => {
    for (const query of [
      "code=c&state=other",
      `code=a&code=b&state=the-state-value&iss=${ISS}`,
      `code=c&state=the-state-value&iss=${encodeURIComponent("https://evil.example")}`,
      `error=access_denied&state=the-state-value&iss=${ISS}`,
    ]) {
      const pasted = judgePastedCallback(state, `${state.redirectUri}?${query}`);
      const direct = receiveCallback(state, new URL(`${state.redirectUri}?${query}`));
      expect(pasted?.outcome, query).toBe(direct.outcome);
      expect(codeOf(pasted), query).toBe(codeOf(direct));
    }
  });

  it("re-exports the main entry's receiveCallback", () => {
    expect(receiveCallback).toBe(fromMain);
  });
});
