import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AwaitingCallbackState,
  type CodeReceivedState,
  type Credentials,
  ErrorCode,
  exchangeCode,
  isFlowFinished,
  type LatchkeyError,
  ProtocolError,
  parseStoredCredentials,
  receiveCallback,
  type ServerMetadata,
  StoreError,
  serializeCredentials,
} from "../src/index.js";
import { toCredentials } from "../src/tokens.js";

// Property-based tests: arbitrary input never throws anything but the documented coded errors,
// and only the exact state is ever accepted. Seeds are fixed so that a failure reproduces.
const RUNS = { numRuns: 300, seed: 0x1a7c4 };

const ISSUER = "https://as.example/tenant";
const REDIRECT = "http://127.0.0.1:53124/callback";
const STATE = "Zq3-8mX_wR2vK9pLs0TtYb4nHc6JdEfGuAiOo1Ue7";

function waiting(overrides: Partial<AwaitingCallbackState> = {}): AwaitingCallbackState {
  return {
    status: "awaiting-callback",
    expectedIssuer: ISSUER,
    issRequired: true,
    clientId: "cli",
    redirectUri: REDIRECT,
    state: STATE,
    codeVerifier: "v".repeat(64),
    nonce: "n".repeat(43),
    scope: "openid",
    startedAt: 1,
    ...overrides,
  };
}

/** Names a callback may carry, plus noise. */
const paramName = fc.oneof(
  fc.constantFrom(
    "code",
    "state",
    "iss",
    "error",
    "error_description",
    "error_uri",
    "session_state",
  ),
  fc.string({ maxLength: 12 }),
);
/** Values: the right state and issuer, near misses, and noise (unicode, controls, empty). */
const paramValue = fc.oneof(
  fc.constantFrom(
    STATE,
    ISSUER,
    `${STATE} `,
    ` ${STATE}`,
    STATE.toUpperCase(),
    STATE.slice(0, -1),
    `${ISSUER}/`,
    "",
    "access_denied",
  ),
  fc.string({ maxLength: 40, unit: "binary" }),
  fc.string({ maxLength: 20 }),
);
const pairs = fc.array(fc.tuple(paramName, paramValue), { maxLength: 8 });
const query = (list: readonly (readonly [string, string])[]): string =>
  new URLSearchParams(list.map(([k, v]) => [k, v])).toString();

describe("receiveCallback (property)", () => {
  it("S15 S16 S26: arbitrary strings as the callback URL never throw, only return verdicts", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: "binary" }), (text) => {
        const verdict = receiveCallback(waiting(), text);
        expect(["accepted", "ignored", "failed"]).toContain(verdict.outcome);
        if (verdict.outcome !== "accepted") expect(verdict.error).toBeInstanceOf(ProtocolError);
      }),
      RUNS,
    );
  });

  it("S15 S16 S26: arbitrary raw query strings never throw", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: "binary" }), (raw) => {
        const verdict = receiveCallback(waiting(), `${REDIRECT}?${raw}`);
        expect(["accepted", "ignored", "failed"]).toContain(verdict.outcome);
      }),
      RUNS,
    );
  });

  it("S15 S16 S17: only the exact state, once, with the exact iss and a code, is accepted", () => {
    fc.assert(
      fc.property(pairs, fc.boolean(), (list, issRequired) => {
        const state = waiting({ issRequired });
        const text = `${REDIRECT}?${query(list)}`;
        const verdict = receiveCallback(state, text);
        const params = new URLSearchParams(query(list));
        const names = [...params.keys()];
        const duplicates = names.length !== new Set(names).size;
        const stateOk = params.getAll("state").length === 1 && params.get("state") === STATE;
        if (verdict.outcome === "accepted") {
          expect(duplicates).toBe(false);
          expect(stateOk).toBe(true);
          expect(params.get("code")).toBeTruthy();
          expect(params.get("error") || "").toBe("");
          const iss = params.get("iss") || undefined;
          if (issRequired) expect(iss).toBe(ISSUER);
          else if (iss !== undefined) expect(iss).toBe(ISSUER);
          expect(verdict.next.status).toBe("code-received");
        } else if (verdict.outcome === "failed") {
          // A failure ends this login: only possible for a callback that carries our state.
          expect(stateOk).toBe(true);
          expect(duplicates).toBe(false);
          expect([
            ErrorCode.ISS_MISMATCH,
            ErrorCode.AUTHORIZATION_DENIED,
            ErrorCode.CALLBACK_INVALID,
          ]).toContain(verdict.error.code);
        } else {
          expect(duplicates || !stateOk).toBe(true);
          expect([ErrorCode.STATE_MISMATCH, ErrorCode.CALLBACK_INVALID]).toContain(
            verdict.error.code,
          );
        }
      }),
      RUNS,
    );
  });

  it("S15: a callback with the right code but any other state is never accepted", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 60 }).filter((s) => s !== STATE),
        (other) => {
          const verdict = receiveCallback(
            waiting(),
            `${REDIRECT}?${query([
              ["code", "c0de"],
              ["state", other],
              ["iss", ISSUER],
            ])}`,
          );
          expect(verdict.outcome).toBe("ignored");
        },
      ),
      RUNS,
    );
  });

  it("S42: verdict messages never contain the state, the code or the query", () => {
    fc.assert(
      fc.property(pairs, (list) => {
        const all = [...list, ["code", "SECRETCODE123"] as const];
        const verdict = receiveCallback(waiting(), `${REDIRECT}?${query(all)}`);
        if (verdict.outcome !== "accepted") {
          expect(verdict.error.message).not.toContain("SECRETCODE123");
          expect(verdict.error.message).not.toContain(STATE);
        }
      }),
      RUNS,
    );
  });
});

describe("the authorization-code state machine (property)", () => {
  it("transitions: awaiting → code-received | failed | (ignored: unchanged); the input state is never mutated", () => {
    fc.assert(
      fc.property(fc.array(pairs, { minLength: 1, maxLength: 6 }), (callbacks) => {
        const state = waiting();
        const frozen = JSON.stringify(state);
        expect(isFlowFinished(state)).toBe(false);
        for (const list of callbacks) {
          const verdict = receiveCallback(state, `${REDIRECT}?${query(list)}`);
          // Pure: the same input gives the same outcome.
          expect(receiveCallback(state, `${REDIRECT}?${query(list)}`).outcome).toBe(
            verdict.outcome,
          );
          switch (verdict.outcome) {
            case "accepted": {
              const { status: _a, callbackQuery, ...rest } = verdict.next;
              const { status: _b, ...before } = state;
              expect(rest).toEqual(before);
              expect(new URLSearchParams(callbackQuery).get("state")).toBe(STATE);
              expect(isFlowFinished(verdict.next)).toBe(false);
              break;
            }
            case "failed":
              expect(verdict.next.status).toBe("failed");
              expect(verdict.next.error).toBe(verdict.error);
              expect(isFlowFinished(verdict.next)).toBe(true);
              break;
            case "ignored":
              break;
          }
          expect(JSON.stringify(state)).toBe(frozen);
        }
      }),
      RUNS,
    );
  });

  it("S18: a code received for one issuer is never sent to another (no request at all)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.webUrl({ withQueryParameters: false, withFragments: false }),
        async (otherIssuer) => {
          fc.pre(otherIssuer !== ISSUER);
          let requests = 0;
          const received: CodeReceivedState = {
            ...waiting(),
            status: "code-received",
            callbackQuery: `?code=c&state=${STATE}&iss=${encodeURIComponent(ISSUER)}`,
          };
          const server: ServerMetadata = {
            issuer: otherIssuer,
            token_endpoint: `${otherIssuer}/token`,
          };
          const error = await exchangeCode(received, {
            client: {
              issuer: otherIssuer,
              clientId: "cli",
              fetch: async () => {
                requests++;
                return new Response("{}");
              },
            },
            server,
          }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ProtocolError);
          expect((error as ProtocolError).code).toBe(ErrorCode.ISS_MISMATCH);
          expect(requests).toBe(0);
        },
      ),
      { ...RUNS, numRuns: 100 },
    );
  });
});

describe("token responses (property)", () => {
  const options = { issuer: ISSUER, clientId: "cli", receivedAt: 1_000_000 };
  const tokenLike = fc.record(
    {
      access_token: fc.oneof(fc.string(), fc.jsonValue()),
      token_type: fc.oneof(
        fc.constantFrom("Bearer", "bearer", "BEARER", "DPoP", "mac", ""),
        fc.jsonValue(),
      ),
      expires_in: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
      refresh_token: fc.oneof(fc.string(), fc.jsonValue()),
      id_token: fc.oneof(fc.string(), fc.jsonValue()),
      scope: fc.oneof(fc.string(), fc.jsonValue()),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );

  it("S32: toCredentials on arbitrary JSON throws only ProtocolError INVALID_RESPONSE", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), tokenLike, fc.anything()), (body) => {
        let credentials: Credentials;
        try {
          credentials = toCredentials(body, options);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          expect((error as ProtocolError).code).toBe(ErrorCode.INVALID_RESPONSE);
          return;
        }
        expect(typeof credentials.accessToken).toBe("string");
        expect(credentials.accessToken.length).toBeGreaterThan(0);
        expect(credentials.tokenType).toBe("Bearer");
        if (credentials.expiresAt !== undefined) {
          expect(Number.isFinite(credentials.expiresAt)).toBe(true);
          expect(credentials.expiresAt).toBeGreaterThanOrEqual(options.receivedAt);
        }
      }),
      RUNS,
    );
  });

  it("S32 S36: a valid response keeps unknown fields out and computes expiresAt from receipt", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[!-~]{1,64}$/),
        fc.constantFrom("Bearer", "bearer", "BEARER", "BeArEr"),
        fc.option(fc.integer({ min: 0, max: 10 ** 9 }), { nil: undefined }),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (accessToken, tokenType, expiresIn, extra) => {
          const body = { ...extra, access_token: accessToken, token_type: tokenType };
          if (expiresIn !== undefined) Object.assign(body, { expires_in: expiresIn });
          else delete (body as Record<string, unknown>).expires_in;
          for (const name of ["refresh_token", "id_token", "scope"])
            delete (body as Record<string, unknown>)[name];
          const credentials = toCredentials(body, options);
          expect(credentials.accessToken).toBe(accessToken);
          expect(credentials.expiresAt).toBe(
            expiresIn === undefined
              ? undefined
              : options.receivedAt + Math.min(expiresIn, 315_360_000) * 1000,
          );
          expect(Object.keys(credentials).sort()).toEqual(
            ["accessToken", "tokenType", "issuer", "clientId", "obtainedAt"]
              .concat(expiresIn === undefined ? [] : ["expiresAt"])
              .sort(),
          );
        },
      ),
      RUNS,
    );
  });
});

describe("stored records (property)", () => {
  it("S38: parseStoredCredentials on arbitrary text throws only StoreError STORE_CORRUPT", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc
            .record({ v: fc.jsonValue(), accessToken: fc.jsonValue(), issuer: fc.jsonValue() })
            .map((v) => JSON.stringify(v)),
        ),
        (text) => {
          try {
            parseStoredCredentials(text);
          } catch (error) {
            expect(error).toBeInstanceOf(StoreError);
            expect((error as LatchkeyError).code).toBe(ErrorCode.STORE_CORRUPT);
            // S42: the message never quotes the record.
            if (text.length > 12) expect((error as Error).message).not.toContain(text);
          }
        },
      ),
      RUNS,
    );
  });

  it("S38: serialize → parse is the identity for every valid record", () => {
    const nonEmpty = fc.string({ minLength: 1, maxLength: 50 });
    const credentials = fc.record(
      {
        accessToken: fc.stringMatching(/^[!-~]{1,50}$/),
        tokenType: nonEmpty,
        expiresAt: fc.integer(),
        refreshToken: fc.stringMatching(/^[ -~]{1,50}$/),
        idToken: fc.stringMatching(/^[\w-]{1,20}\.[\w-]{1,20}\.[\w-]{1,20}$/),
        scope: fc.string(),
        issuer: nonEmpty,
        clientId: nonEmpty,
        obtainedAt: fc.integer(),
      },
      { requiredKeys: ["accessToken", "tokenType", "issuer", "clientId", "obtainedAt"] },
    );
    fc.assert(
      fc.property(credentials, (value) => {
        expect(parseStoredCredentials(serializeCredentials(value as Credentials))).toEqual(value);
      }),
      RUNS,
    );
  });
});
