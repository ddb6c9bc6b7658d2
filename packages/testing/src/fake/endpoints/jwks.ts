/** The JWKS endpoint: the published public keys. */
import { json } from "../../http.js";
import { jwks as keySet } from "../../tokens.js";
import type { RequestContext } from "../context.js";

/** The JSON Web Key Set of the published signing keys. */
export function jwks(context: RequestContext, _request: Request): Response {
  return json(200, keySet(context.keys.published));
}
