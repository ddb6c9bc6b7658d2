import type * as oauth from "oauth4webapi";
import { type ClientOptions, checkEndpointUrl } from "./config.js";
import { isRecord } from "./credentials.js";
import type { ServerMetadata } from "./discovery.js";
import { ErrorCode, ProtocolError } from "./errors.js";
import { httpGet, type OauthRequestOptions, readJson } from "./http.js";
import { decodeJwtClaims, decodeJwtPart, fromBase64Url } from "./jwt.js";
import { tableFor } from "./tables.js";

/**
 * @internal The metadata oauth4webapi validates ID tokens against, with the algorithm
 * allow-list made safe (S43): never `none`, and no HMAC algorithms for a public client (an
 * HS256 token "signed" with the public client id proves nothing).
 */
export function withSafeIdTokenAlgorithms(
  server: ServerMetadata,
  client: ClientOptions,
): ServerMetadata {
  const listed = server.id_token_signing_alg_values_supported;
  if (!Array.isArray(listed)) return server;
  const confidential = client.clientSecret !== undefined;
  const safe = listed.filter((alg) => alg !== "none" && (confidential || !alg.startsWith("HS")));
  return { ...server, id_token_signing_alg_values_supported: safe.length ? safe : ["RS256"] };
}

type Jwk = JsonWebKey & { kid?: unknown };
interface KeySet {
  /** When the keys were fetched (ms). */
  at: number;
  keys: Jwk[];
  /** When an unknown `kid` last forced a refetch (ms). */
  forced: number;
}

// Per transport, then per jwks_uri: two fetch functions may reach two different servers
// behind the same URL (tests, split-horizon DNS).
const keySets = new WeakMap<object, Map<string, KeySet>>();

const invalidIdToken = (message: string): ProtocolError =>
  new ProtocolError(ErrorCode.INVALID_ID_TOKEN, `The ID token ${message}.`);

async function fetchKeys(url: string, transport: OauthRequestOptions): Promise<Jwk[]> {
  const response = await httpGet(transport, url, {
    accept: "application/json, application/jwk-set+json",
  });
  const { keys } = response.status === 200 ? await readJson(response, "key set request") : {};
  if (!Array.isArray(keys) || !keys.every(isRecord)) {
    throw new ProtocolError(
      ErrorCode.INVALID_RESPONSE,
      `The key set (jwks_uri) is not usable (HTTP ${response.status}).`,
    );
  }
  return keys;
}

/**
 * @internal Checks the signature of an ID token whose claims oauth4webapi has validated, with
 * the server's keys from `jwks_uri` (S43), on `crypto.subtle`. The header's `alg` must be in the
 * server's allow-list (see {@link withSafeIdTokenAlgorithms}) and one of RS/PS/ES 256/384/512,
 * EdDSA or Ed25519; exactly one key may match it (`kty`/`crv` of the algorithm, `kid`, `alg`,
 * `use: sig`, `key_ops` with `verify`); RSA keys need 2048 bits. The key set is cached per
 * transport and `jwks_uri` for 5 minutes; a `kid` it does not have refetches it once, at most
 * every 30 s (key rotation, S45).
 */
export async function verifyIdTokenSignature(
  server: ServerMetadata,
  idToken: string,
  client: ClientOptions,
  transport: OauthRequestOptions,
): Promise<void> {
  const jwksUri = server.jwks_uri;
  if (!jwksUri) throw invalidIdToken("cannot be verified: no jwks_uri");
  checkEndpointUrl(jwksUri, "jwks_uri", client.allowInsecureHttp ?? false);
  const [head = "", payload, signature = ""] = idToken.split(".");
  const header = decodeJwtPart(head);
  const alg = header?.alg;
  if (
    typeof alg !== "string" ||
    !(server.id_token_signing_alg_values_supported ?? ["RS256"]).includes(alg)
  ) {
    throw invalidIdToken("has an algorithm the server does not allow");
  }
  const match = /^([RPE]S)(256|384|512)$|^Ed(?:DSA|25519)$/.exec(alg);
  if (!match) {
    throw new ProtocolError(
      ErrorCode.INVALID_RESPONSE,
      "The ID token has an unsupported algorithm.",
    );
  }
  const [, family, bits = ""] = match;
  const crv = family === "ES" ? `P-${bits === "512" ? 521 : bits}` : family ? undefined : "Ed25519";
  const [kty, name] =
    family === "ES"
      ? ["EC", "ECDSA"]
      : family === "PS"
        ? ["RSA", "RSA-PSS"]
        : family
          ? ["RSA", "RSASSA-PKCS1-v1_5"]
          : ["OKP", "Ed25519"];
  // One parameter set serves importKey and verify: each takes the members its algorithm needs.
  const params = { name, hash: `SHA-${bits}`, namedCurve: crv, saltLength: Number(bits) / 8 };

  const perTransport = tableFor(keySets, client.fetch);
  let set = perTransport.get(jwksUri);
  if (!set || Date.now() - set.at >= 300_000) {
    const keys = await fetchKeys(jwksUri, transport);
    set = { at: Date.now(), keys, forced: set?.forced ?? 0 };
    perTransport.set(jwksUri, set);
  }
  for (;;) {
    const candidates = set.keys.filter(
      (jwk) =>
        jwk.kty === kty &&
        jwk.crv === crv &&
        (header?.kid === undefined || jwk.kid === header.kid) &&
        (jwk.alg === undefined || jwk.alg === alg) &&
        (jwk.use === undefined || jwk.use === "sig") &&
        (jwk.key_ops === undefined ||
          (Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))),
    );
    if (candidates.length > 1) {
      throw invalidIdToken("matches several keys; it needs a kid");
    }
    const [jwk] = candidates;
    if (jwk) {
      const { key_ops: _ops, use: _use, ext: _ext, ...material } = jwk;
      const key = await crypto.subtle
        .importKey("jwk", material, params, false, ["verify"])
        .catch(() => undefined);
      if (!key) throw invalidIdToken("has a key that cannot be imported");
      if (kty === "RSA" && (key.algorithm as RsaHashedKeyAlgorithm).modulusLength < 2048) {
        throw invalidIdToken("has an RSA key under 2048 bits");
      }
      let valid = false;
      try {
        valid = await crypto.subtle.verify(
          params,
          key,
          fromBase64Url(signature) as BufferSource,
          new TextEncoder().encode(`${head}.${payload}`),
        );
      } catch {}
      if (!valid) throw invalidIdToken("signature does not verify");
      return;
    }
    // A kid the cached set does not have: the server may have rotated its keys (S45).
    const now = Date.now();
    if (now - set.forced < 30_000) {
      throw invalidIdToken("has a key the server's key set does not have");
    }
    set.forced = now;
    set.keys = await fetchKeys(jwksUri, transport);
    set.at = now;
  }
}

/**
 * @internal What oauth4webapi's generic token-response processing leaves to us about an ID
 * token whose claims it has validated: the signature (S43), `iat` not in the future beyond the
 * leeway (S43; oauth4webapi only checks that it is there) and, for an ID token from a refresh
 * (`previousIdToken` given), the same issuer, subject and audience as the login's (S46, OIDC
 * Core §12.2). An ID token that {@link decodeJwtClaims} cannot decode is invalid: its strict
 * compact form leaves oauth4webapi's decoder (which drops white space) nothing to read
 * differently, so the claims checked here are the ones it validated.
 */
export async function checkIdToken(
  server: ServerMetadata,
  body: oauth.TokenEndpointResponse,
  client: ClientOptions,
  transport: OauthRequestOptions,
  previousIdToken?: string,
): Promise<void> {
  // oauth4webapi has validated these very claims (iss, aud, exp, iat, sub) in processing `body`.
  const claims = decodeJwtClaims(body.id_token);
  if (body.id_token === undefined) return;
  if (!claims) throw invalidIdToken("cannot be decoded");
  await verifyIdTokenSignature(server, body.id_token as string, client, transport);
  const previous = decodeJwtClaims(previousIdToken);
  const audience = (claims: { aud?: unknown }): string =>
    JSON.stringify([claims.aud].flat().sort());
  if (
    previous &&
    (previous.iss !== claims.iss ||
      previous.sub !== claims.sub ||
      audience(previous) !== audience(claims))
  ) {
    throw invalidIdToken("of the refresh has another iss, sub or aud than the login's");
  }
  if (
    (claims.iat as number) >
    (client.now ?? Date.now)() / 1000 + (client.clockToleranceSeconds ?? 30)
  ) {
    throw invalidIdToken("is from the future (iat); check the clocks");
  }
}
