import type { Credentials } from "./credentials.js";
import type { ProtocolError } from "./errors.js";

/**
 * The authorization-code flow waits for the browser to come back. Everything here is plain
 * JSON, so a browser app can keep it in `sessionStorage` across the redirect. It holds the PKCE
 * verifier: keep it as secret as a token.
 */
export interface AwaitingCallbackState {
  /** The browser has been sent to the authorization endpoint; no callback yet. */
  status: "awaiting-callback";
  /** The issuer the callback's `iss` must equal byte for byte, or null when none is known. */
  expectedIssuer: string | null;
  /** Whether the callback must carry `iss` (metadata said so, RFC 9207). */
  issRequired: boolean;
  /** The client id the request was made for. */
  clientId: string;
  /** The exact redirect URI sent; the token request repeats it byte for byte (S21). */
  redirectUri: string;
  /** The `state` sent. */
  state: string;
  /** The PKCE verifier. Secret. */
  codeVerifier: string;
  /** The `nonce` sent, when `openid` was requested. */
  nonce?: string;
  /** The scope requested. */
  scope?: string;
  /** When the login started, ms since the epoch. */
  startedAt: number;
}

/** A valid callback came back; the code is ready to be exchanged. */
export interface CodeReceivedState extends Omit<AwaitingCallbackState, "status"> {
  /** A valid callback came back (see `receiveCallback`); next, `exchangeCode`. */
  status: "code-received";
  /** The callback's query string (holds the code). Secret. */
  callbackQuery: string;
}

/** The login finished. */
export interface CompletedState {
  /** The code was exchanged; `credentials` holds the tokens. */
  status: "completed";
  /** What the token endpoint issued. */
  credentials: Credentials;
}

/** The login failed for good. */
export interface FailedState {
  /** The login ended without tokens; `error` says why. */
  status: "failed";
  /** Why. */
  error: ProtocolError;
}

/** Every state of one authorization-code + PKCE login. */
export type AuthorizationCodeFlowState =
  | AwaitingCallbackState
  | CodeReceivedState
  | CompletedState
  | FailedState;

/** Whether the flow is over (completed or failed). */
export function isFlowFinished(state: AuthorizationCodeFlowState): boolean {
  switch (state.status) {
    case "awaiting-callback":
    case "code-received":
      return false;
    case "completed":
    case "failed":
      return true;
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}
