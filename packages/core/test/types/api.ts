// Type-level tests of the public API: this file only has to compile (`pnpm typecheck`).
// Every `@ts-expect-error` marks something the API must refuse.
import {
  type AuthorizationCodeFlowState,
  type CallbackVerdict,
  type ClientOptions,
  type Credentials,
  ErrorCode,
  isFlowFinished,
  type LatchkeyError,
  ProtocolError,
  type TokenStore,
} from "../../src/index.js";

const client: ClientOptions = { issuer: "https://as.example", clientId: "cli" };
void client;

// @ts-expect-error the client id is required
const noClient: ClientOptions = { issuer: "https://as.example" };
void noClient;

// @ts-expect-error only the three client authentication methods exist
const badAuth: ClientOptions = { clientId: "x", clientAuthMethod: "private_key_jwt" };
void badAuth;

// exactOptionalPropertyTypes: an optional field may be absent, not `undefined`.
// @ts-expect-error
const undefinedScope: ClientOptions = { clientId: "x", scopes: undefined };
void undefinedScope;

// Error codes are a closed set of string literals.
const code: ErrorCode = ErrorCode.STATE_MISMATCH;
// @ts-expect-error not a latchkey error code
const notACode: ErrorCode = "SOMETHING_ELSE";
void code;
void notACode;

// A verdict is narrowed by its outcome; only `accepted` carries the next state.
declare const verdict: CallbackVerdict;
if (verdict.outcome === "accepted") {
  const status: "code-received" = verdict.next.status;
  void status;
} else {
  const error: ProtocolError = verdict.error;
  void error;
  // @ts-expect-error `ignored` verdicts have no next state
  void verdict.next.status;
}

// The flow states are a discriminated union: a switch over `status` is exhaustive.
function describe(state: AuthorizationCodeFlowState): string {
  switch (state.status) {
    case "awaiting-callback":
      return state.codeVerifier.length ? "waiting" : "";
    case "code-received":
      return state.callbackQuery;
    case "completed":
      return state.credentials.accessToken;
    case "failed":
      return state.error.code;
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}
void describe;
void isFlowFinished;

// Credentials are camelCase; the wire's snake_case never leaks into the API.
declare const credentials: Credentials;
const expiresAt: number | undefined = credentials.expiresAt;
void expiresAt;
// @ts-expect-error snake_case is for the wire only
void credentials.access_token;

// A store only has to implement three methods and a kind.
const store: TokenStore = {
  kind: "custom",
  get: async () => undefined,
  set: async () => undefined,
  delete: async () => undefined,
};
void store;

// Every error is a LatchkeyError with a code.
const error: LatchkeyError = new ProtocolError(ErrorCode.INVALID_GRANT, "x");
const errorCode: ErrorCode = error.code;
void errorCode;
