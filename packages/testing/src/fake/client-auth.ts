/** Client authentication at the token, device, revocation, introspection and PAR endpoints. */
import { oauthError, type Params, parseBasic, parseParams } from "../http.js";
import { constantTimeEqual } from "../tokens.js";
import type { RegisteredClient } from "./config.js";
import { mediaType, type RequestContext } from "./context.js";

/** A form POST whose client is authenticated. */
export interface ClientForm {
  readonly params: Params;
  readonly client: RegisteredClient;
}

function authenticateClient(
  context: RequestContext,
  request: Request,
  params: Params,
): RegisteredClient | Response {
  const header = request.headers.get("authorization");
  const basic = header === null ? undefined : parseBasic(header);
  const challenge: Record<string, string> =
    header === null ? {} : { "www-authenticate": 'Basic realm="latchkey-fake-idp"' };
  const invalidClient = (description: string): Response =>
    oauthError(401, "invalid_client", description, challenge);
  if (header !== null && basic === undefined) {
    return invalidClient("the Authorization header is not valid Basic client authentication");
  }
  const bodyId = params.get("client_id");
  const bodySecret = params.get("client_secret");
  if (basic !== undefined && bodySecret !== undefined) {
    return oauthError(400, "invalid_request", "more than one client authentication method");
  }
  if (basic !== undefined && bodyId !== undefined && bodyId !== basic.id) {
    return invalidClient("client_id differs from the authenticated client");
  }
  const clientId = basic?.id ?? bodyId;
  if (clientId === undefined) {
    return invalidClient("no client identification");
  }
  const client = context.config.clients.get(clientId);
  if (client === undefined) {
    return invalidClient("unknown client");
  }
  const secret = client.clientSecret ?? "";
  switch (client.method) {
    case "none":
      if (basic !== undefined || bodySecret !== undefined) {
        return invalidClient("this client is public and must not send credentials");
      }
      return client;
    case "client_secret_basic":
      if (basic === undefined || !constantTimeEqual(basic.secret, secret)) {
        return invalidClient("client_secret_basic authentication failed");
      }
      return client;
    case "client_secret_post":
      if (
        basic !== undefined ||
        bodySecret === undefined ||
        !constantTimeEqual(bodySecret, secret)
      ) {
        return invalidClient("client_secret_post authentication failed");
      }
      return client;
    default: {
      const unreachable: never = client.method;
      return invalidClient(`unsupported method ${String(unreachable)}`);
    }
  }
}

/** Parses a form POST and authenticates its client; a `Response` is an error to send. */
export async function formWithClient(
  context: RequestContext,
  request: Request,
): Promise<ClientForm | Response> {
  const params = parseParams(new URLSearchParams(await request.text()));
  context.log.params = params.raw;
  context.log.grantType = params.raw.grant_type;
  if (mediaType(request) !== "application/x-www-form-urlencoded") {
    return oauthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  if (params.duplicates.length > 0) {
    return oauthError(
      400,
      "invalid_request",
      `repeated parameter: ${params.duplicates.join(", ")}`,
    );
  }
  const client = authenticateClient(context, request, params);
  return client instanceof Response ? client : { params, client };
}

/** The context of a grant: the token request's parameters and its authenticated client. */
export interface GrantContext extends RequestContext, ClientForm {}

/** A grant of the token endpoint. */
export type Grant = (context: GrantContext, request: Request) => Promise<Response>;
