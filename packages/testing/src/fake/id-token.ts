/** The ID token, with the faults that spoil it (OpenID RP conformance cases, S43, S46). */
import { UNTRUSTED_AUDIENCE } from "../faults.js";
import { corruptSignature, createSigningKey, hs256Jwt, signJwt, unsecuredJwt } from "../tokens.js";
import type { RegisteredClient } from "./config.js";
import { nowSeconds, type RequestContext, take, userClaims } from "./context.js";
import type { TokenFamily } from "./state.js";

type IdTokenPayload = Record<string, unknown>;

/** Signs an ID token for `family`, applying the `id_token:*` (and, from a refresh, `refresh:*`) faults. */
export async function signIdToken(
  context: RequestContext,
  client: RegisteredClient,
  family: TokenFamily,
  nonce: string | undefined,
  fromRefresh: boolean,
): Promise<string> {
  const { issuer, idTokenTtl, wrongIssuer } = context.config;
  const keys = context.keys;
  const iat = nowSeconds(context);
  const payload: IdTokenPayload = {
    ...userClaims(context, family.subject),
    iss: issuer,
    sub: family.subject,
    aud: client.clientId,
    iat,
    exp: iat + idTokenTtl,
    auth_time: family.authTime,
    ...(nonce === undefined ? {} : { nonce }),
  };
  if (fromRefresh && take(context, "refresh:id_token-other-iss")) {
    payload.iss = wrongIssuer;
  }
  if (fromRefresh && take(context, "refresh:id_token-other-sub")) {
    payload.sub = `${family.subject}-other`;
  }
  if (take(context, "id_token:wrong-iss")) {
    payload.iss = wrongIssuer;
  }
  if (take(context, "id_token:wrong-aud")) {
    payload.aud = UNTRUSTED_AUDIENCE;
  }
  if (take(context, "id_token:missing-aud")) {
    delete payload.aud;
  }
  if (take(context, "id_token:extra-aud")) {
    payload.aud = [client.clientId, UNTRUSTED_AUDIENCE];
  }
  if (take(context, "id_token:missing-iat")) {
    delete payload.iat;
  }
  if (take(context, "id_token:future-iat")) {
    payload.iat = iat + 3600;
    payload.exp = iat + 3600 + idTokenTtl;
  }
  if (take(context, "id_token:expired")) {
    payload.iat = iat - 7200;
    payload.exp = iat - 3600;
  }
  if (take(context, "id_token:missing-sub")) {
    delete payload.sub;
  }
  if (take(context, "id_token:wrong-nonce")) {
    payload.nonce = nonce === undefined ? "wrong-nonce" : `${nonce}-wrong`;
  }
  if (take(context, "id_token:missing-nonce")) {
    delete payload.nonce;
  }
  if (take(context, "id_token:alg-none")) {
    return unsecuredJwt(payload);
  }
  if (take(context, "id_token:hs256-client-id")) {
    return hs256Jwt(payload, client.clientId);
  }
  let kid = true;
  if (take(context, "id_token:kid-absent")) {
    kid = false;
  }
  if (take(context, "id_token:kid-absent-several-keys")) {
    kid = false;
    if (!keys.published.some((key) => key !== keys.active && key.alg === keys.active.alg)) {
      const decoy = await createSigningKey(keys.active.alg);
      keys.published = [...keys.published, decoy];
    }
  }
  const token = await signJwt(keys.active, "JWT", payload, { kid });
  return take(context, "id_token:bad-signature") ? corruptSignature(token) : token;
}
