/** Discovery: RFC 8414 metadata and OpenID Connect Discovery, the same document. */
import { json } from "../../http.js";
import { type RequestContext, take } from "../context.js";

/** The metadata, or with `discovery:issuer-mismatch` the same with a wrong `issuer`. */
export function discovery(context: RequestContext, _request: Request): Response {
  const { metadata, wrongIssuer } = context.config;
  return json(
    200,
    take(context, "discovery:issuer-mismatch") ? { ...metadata, issuer: wrongIssuer } : metadata,
  );
}
