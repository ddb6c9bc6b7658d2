/** The name under which a request is logged, and the scope of overrides and HTTP faults. */
export type FakeEndpoint =
  | "discovery"
  | "authorize"
  | "login"
  | "token"
  | "jwks"
  | "userinfo"
  | "device_authorization"
  | "device"
  | "revocation"
  | "introspection"
  | "par"
  | "unknown";

/** Endpoints on which the generic HTTP faults (`ENDPOINT:5xx`, `:delay`, ...) can be switched on. */
export type FakeHttpFaultEndpoint =
  | "discovery"
  | "authorize"
  | "token"
  | "jwks"
  | "userinfo"
  | "device_authorization"
  | "revocation"
  | "introspection"
  | "par";

/** Generic transport-level misbehaviour, available on every {@link FakeHttpFaultEndpoint}. */
export type FakeHttpFaultKind = "5xx" | "delay" | "drop" | "malformed-json" | "html-error";

/** Defects of an issued ID token (OpenID RP conformance cases, S43). */
export type FakeIdTokenFaultName =
  | "id_token:bad-signature"
  | "id_token:alg-none"
  | "id_token:hs256-client-id"
  | "id_token:wrong-iss"
  | "id_token:wrong-aud"
  | "id_token:missing-aud"
  | "id_token:extra-aud"
  | "id_token:missing-iat"
  | "id_token:future-iat"
  | "id_token:expired"
  | "id_token:missing-sub"
  | "id_token:wrong-nonce"
  | "id_token:missing-nonce"
  | "id_token:kid-absent"
  | "id_token:kid-absent-several-keys";

/** Scripted answers to device-code polls (RFC 8628 §3.5), taken in the order they were set. */
export type FakeDeviceFaultName =
  | "device:authorization_pending"
  | "device:slow_down"
  | "device:access_denied"
  | "device:expired_token";

/** Every fault the fake server can switch on; see {@link fakeFaultCatalogue}. */
export type FakeFaultName =
  | `${FakeHttpFaultEndpoint}:${FakeHttpFaultKind}`
  | FakeIdTokenFaultName
  | FakeDeviceFaultName
  | "discovery:issuer-mismatch"
  | "authorize:iss-wrong"
  | "authorize:iss-missing"
  | "authorize:state-missing"
  | "authorize:state-wrong"
  | "authorize:access-denied"
  | "token:no-expires-in"
  | "token:token-type-uppercase"
  | "token:400-empty"
  | "token:401-empty"
  | "token:400-html"
  | "refresh:id_token-other-iss"
  | "refresh:id_token-other-sub"
  | "userinfo:sub-mismatch";

/** A fault to switch on, with its scope. */
export interface FakeFaultSpec {
  /** Which fault; see {@link fakeFaultCatalogue}. */
  name: FakeFaultName;
  /** How many times it fires before switching itself off. Default: until cleared. */
  times?: number;
  /** For `*:delay`: how long to wait before answering normally. Default 1000. */
  delayMs?: number;
  /** For `*:5xx`: the status code, 500–599. Default 503. */
  status?: number;
}

/** One entry of {@link fakeFaultCatalogue}. */
export interface FakeFaultInfo {
  /** The fault's name, `ENDPOINT:kind` (as given in `faults` or `--fault`). */
  readonly name: FakeFaultName;
  /** The endpoint whose responses it changes. */
  readonly endpoint: FakeEndpoint;
  /** What the client receives. */
  readonly description: string;
  /** The docs/threat-model.md checklist items a client proves with it. */
  readonly checks: readonly string[];
}

/** The issuer published by the faults that send a wrong one: the real issuer plus `/wrong`. */
export const WRONG_ISSUER_SUFFIX = "/wrong";

/** The audience added by `id_token:extra-aud` and used by `id_token:wrong-aud`. */
export const UNTRUSTED_AUDIENCE = "https://untrusted.example";

const HTTP_FAULT_ENDPOINTS: readonly FakeHttpFaultEndpoint[] = [
  "discovery",
  "authorize",
  "token",
  "jwks",
  "userinfo",
  "device_authorization",
  "revocation",
  "introspection",
  "par",
];

const HTTP_FAULT_KINDS: readonly (readonly [FakeHttpFaultKind, string, readonly string[]])[] = [
  [
    "5xx",
    "answers `status` (default 503) with a JSON `server_error` body and `Retry-After: 1`",
    ["S4", "S33", "S51"],
  ],
  ["delay", "waits `delayMs` (default 1000) of real time, then answers normally", ["S4", "S30"]],
  [
    "drop",
    "drops the connection without an answer: the listener destroys the socket; in memory, `fetch` rejects with `TypeError: fetch failed`",
    ["S4", "S33"],
  ],
  ["malformed-json", 'answers 200 with `content-type: application/json` and the body `{"`', ["S4"]],
  ["html-error", "answers 502 with an HTML page, as a proxy in front of the server would", ["S4"]],
];

const SPECIFIC_FAULTS: readonly FakeFaultInfo[] = [
  {
    name: "discovery:issuer-mismatch",
    endpoint: "discovery",
    description: "metadata `issuer` is the issuer plus `/wrong`",
    checks: ["S4", "S19"],
  },
  {
    name: "authorize:iss-wrong",
    endpoint: "authorize",
    description: "the authorization response carries `iss` = issuer plus `/wrong`",
    checks: ["S4", "S17"],
  },
  {
    name: "authorize:iss-missing",
    endpoint: "authorize",
    description: "the authorization response has no `iss` (the metadata still announces it)",
    checks: ["S4", "S17"],
  },
  {
    name: "authorize:state-missing",
    endpoint: "authorize",
    description: "the authorization response has no `state`",
    checks: ["S4", "S15"],
  },
  {
    name: "authorize:state-wrong",
    endpoint: "authorize",
    description: "the authorization response carries another `state` (the sent one plus `-wrong`)",
    checks: ["S4", "S15"],
  },
  {
    name: "authorize:access-denied",
    endpoint: "authorize",
    description: "the user refuses: redirect with `error=access_denied`, `state` and `iss`",
    checks: ["S4", "S15"],
  },
  {
    name: "token:no-expires-in",
    endpoint: "token",
    description: "successful token responses omit `expires_in`",
    checks: ["S4", "S32", "S36"],
  },
  {
    name: "token:token-type-uppercase",
    endpoint: "token",
    description: 'successful token responses say `token_type: "BEARER"`',
    checks: ["S4", "S32"],
  },
  {
    name: "token:400-empty",
    endpoint: "token",
    description:
      "token requests (any grant) get HTTP 400 with an empty body and no content type, as some servers answer a dead refresh token",
    checks: ["S4", "S33", "S41"],
  },
  {
    name: "token:401-empty",
    endpoint: "token",
    description:
      "token requests (any grant) get HTTP 401 with an empty body and no `WWW-Authenticate`",
    checks: ["S4", "S33", "S41"],
  },
  {
    name: "token:400-html",
    endpoint: "token",
    description: "token requests (any grant) get HTTP 400 with an HTML page instead of JSON",
    checks: ["S4", "S33", "S41"],
  },
  {
    name: "id_token:bad-signature",
    endpoint: "token",
    description:
      "the ID token's signature is corrupted (ES256 by default; RS256 with `signingAlg: 'RS256'`)",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:alg-none",
    endpoint: "token",
    description: 'the ID token is unsigned (`alg: "none"`)',
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:hs256-client-id",
    endpoint: "token",
    description: "the ID token is HS256-signed with the client id as the secret",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:wrong-iss",
    endpoint: "token",
    description: "ID token `iss` = issuer plus `/wrong`",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:wrong-aud",
    endpoint: "token",
    description: "ID token `aud` = `https://untrusted.example`",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:missing-aud",
    endpoint: "token",
    description: "ID token without `aud`",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:extra-aud",
    endpoint: "token",
    description: "ID token `aud` = [client_id, `https://untrusted.example`], no `azp`",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:missing-iat",
    endpoint: "token",
    description: "ID token without `iat`",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:future-iat",
    endpoint: "token",
    description: "ID token `iat` one hour in the future",
    checks: ["S4", "S36", "S43"],
  },
  {
    name: "id_token:expired",
    endpoint: "token",
    description: "ID token `exp` one hour in the past (`iat` two hours)",
    checks: ["S4", "S36", "S43"],
  },
  {
    name: "id_token:missing-sub",
    endpoint: "token",
    description: "ID token without `sub`",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:wrong-nonce",
    endpoint: "token",
    description: "ID token `nonce` = the sent one plus `-wrong`",
    checks: ["S4", "S43", "S44"],
  },
  {
    name: "id_token:missing-nonce",
    endpoint: "token",
    description: "ID token without `nonce` although the request had one",
    checks: ["S4", "S43", "S44"],
  },
  {
    name: "id_token:kid-absent",
    endpoint: "token",
    description: "ID token header without `kid` (the JWKS has one key)",
    checks: ["S4", "S43"],
  },
  {
    name: "id_token:kid-absent-several-keys",
    endpoint: "token",
    description:
      "ID token header without `kid`, and from then on the JWKS also publishes a decoy key of the same type",
    checks: ["S4", "S43", "S45"],
  },
  {
    name: "refresh:id_token-other-iss",
    endpoint: "token",
    description: "an ID token from a refresh has `iss` = issuer plus `/wrong`",
    checks: ["S4", "S46"],
  },
  {
    name: "refresh:id_token-other-sub",
    endpoint: "token",
    description: "an ID token from a refresh has another `sub` (plus `-other`)",
    checks: ["S4", "S46"],
  },
  {
    name: "userinfo:sub-mismatch",
    endpoint: "userinfo",
    description: "UserInfo answers with another `sub` (plus `-other`)",
    checks: ["S4", "S47"],
  },
  {
    name: "device:authorization_pending",
    endpoint: "token",
    description: "a device-code poll gets `authorization_pending` whatever the user did",
    checks: ["S4", "S49"],
  },
  {
    name: "device:slow_down",
    endpoint: "token",
    description: "a device-code poll gets `slow_down`; the required interval grows by 5 s",
    checks: ["S4", "S49"],
  },
  {
    name: "device:access_denied",
    endpoint: "token",
    description: "a device-code poll gets `access_denied`",
    checks: ["S4", "S49"],
  },
  {
    name: "device:expired_token",
    endpoint: "token",
    description: "a device-code poll gets `expired_token`",
    checks: ["S4", "S48", "S49"],
  },
];

function httpFaults(): FakeFaultInfo[] {
  const faults: FakeFaultInfo[] = [];
  for (const endpoint of HTTP_FAULT_ENDPOINTS) {
    for (const [kind, description, checks] of HTTP_FAULT_KINDS) {
      faults.push({ name: `${endpoint}:${kind}`, endpoint, description, checks });
    }
  }
  return faults;
}

/**
 * Every named fault, with the endpoint it affects, what the client sees and the checklist items it
 * exercises. The README table and the bin's `--fault` validation are generated from it.
 *
 * Select one with `faults: [{ name, times }]`, `server.setFault(name, { times })`, or
 * `latchkey-fake-idp --fault NAME[:TIMES]`. ID-token and token-response faults fire once per
 * issued token; device faults fire once per poll, in the order they were set, so
 * `device:authorization_pending` ×2 then `device:slow_down` ×1 scripts a sequence.
 *
 * @example
 * ```ts
 * fakeFaultCatalogue.filter((fault) => fault.endpoint === "token").map((fault) => fault.name);
 * ```
 */
export const fakeFaultCatalogue: readonly FakeFaultInfo[] = Object.freeze(
  [...SPECIFIC_FAULTS, ...httpFaults()].map((fault) => Object.freeze(fault)),
);

const FAULT_NAMES: ReadonlySet<string> = new Set(fakeFaultCatalogue.map((fault) => fault.name));

/**
 * Whether `name` is a fault of {@link fakeFaultCatalogue}.
 *
 * @param name - Any string, e.g. from a command line.
 * @returns `true` when it names a fault.
 *
 * @example
 * ```ts
 * isFakeFaultName("token:5xx"); // true
 * ```
 */
export function isFakeFaultName(name: string): name is FakeFaultName {
  return FAULT_NAMES.has(name);
}
