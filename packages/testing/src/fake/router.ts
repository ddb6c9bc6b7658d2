/**
 * The route table and the request pipeline: middlewares, then CORS, the method check, a queued
 * override, the HTTP faults and finally the endpoint's handler; every request is logged.
 */
import type { FakeEndpoint } from "../faults.js";
import { json, NO_STORE, parseParams } from "../http.js";
import type { FakePaths } from "./config.js";
import type { Handler, RequestContext, ServerContext } from "./context.js";
import { authorize } from "./endpoints/authorize.js";
import { deviceVerification } from "./endpoints/device.js";
import { deviceAuthorization } from "./endpoints/device-authorization.js";
import { discovery } from "./endpoints/discovery.js";
import { introspection } from "./endpoints/introspection.js";
import { jwks } from "./endpoints/jwks.js";
import { loginSubmit } from "./endpoints/login.js";
import { pushedAuthorizationRequest } from "./endpoints/par.js";
import { revocation } from "./endpoints/revocation.js";
import { tokenEndpoint } from "./endpoints/token.js";
import { userinfo } from "./endpoints/userinfo.js";
import { isDroppedConnection, type LogContext } from "./fault-store.js";
import type { FakeMiddleware, FakeOverride } from "./types.js";

/** An endpoint's name, the methods it accepts and its handler. */
interface Route {
  readonly endpoint: FakeEndpoint;
  readonly methods: readonly string[];
  readonly handler: Handler;
}

/** The hooks and one-shot answers tests install. */
export interface Controls {
  readonly middlewares: FakeMiddleware[];
  readonly overrides: Map<FakeEndpoint, FakeOverride[]>;
}

const CORS_ENDPOINTS: ReadonlySet<FakeEndpoint> = new Set<FakeEndpoint>([
  "discovery",
  "token",
  "jwks",
  "userinfo",
  "revocation",
  "introspection",
  "device_authorization",
  "par",
]);

const NOT_FOUND: Route = {
  endpoint: "unknown",
  methods: [],
  handler: () => json(404, { error: "not_found", error_description: "no such endpoint" }),
};

/** The routes, by path. */
function routeTable(paths: FakePaths): ReadonlyMap<string, Route> {
  const route = (endpoint: FakeEndpoint, methods: string[], handler: Handler): Route => ({
    endpoint,
    methods,
    handler,
  });
  return new Map<string, Route>([
    [paths.oauthMetadata, route("discovery", ["GET"], discovery)],
    [paths.openidConfiguration, route("discovery", ["GET"], discovery)],
    [paths.authorization, route("authorize", ["GET"], authorize)],
    [paths.login, route("login", ["POST"], loginSubmit)],
    [paths.token, route("token", ["POST"], tokenEndpoint)],
    [paths.jwks, route("jwks", ["GET"], jwks)],
    [paths.userinfo, route("userinfo", ["GET", "POST"], userinfo)],
    [paths.deviceAuthorization, route("device_authorization", ["POST"], deviceAuthorization)],
    [paths.deviceVerification, route("device", ["GET", "POST"], deviceVerification)],
    [paths.revocation, route("revocation", ["POST"], revocation)],
    [paths.introspection, route("introspection", ["POST"], introspection)],
    [paths.pushedAuthorizationRequest, route("par", ["POST"], pushedAuthorizationRequest)],
  ]);
}

function corsHeaders(request: Request, response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set("access-control-allow-origin", "*");
  headers.set("access-control-expose-headers", "www-authenticate, retry-after, dpop-nonce");
  if (request.method === "OPTIONS") {
    headers.set("access-control-allow-methods", "GET, POST, OPTIONS");
    headers.set("access-control-allow-headers", "authorization, content-type, dpop");
    headers.set("access-control-max-age", "600");
  }
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

async function serve(
  context: RequestContext,
  controls: Controls,
  route: Route,
  request: Request,
): Promise<Response> {
  const { endpoint, methods } = route;
  const cors = context.config.cors && CORS_ENDPOINTS.has(endpoint);
  if (request.method === "OPTIONS" && cors) {
    return corsHeaders(request, new Response(null, { status: 204 }));
  }
  let response: Response;
  if (endpoint !== "unknown" && !methods.includes(request.method)) {
    response = json(
      405,
      { error: "method_not_allowed", error_description: `use ${methods.join(" or ")}` },
      { allow: methods.join(", ") },
    );
  } else {
    const queued = controls.overrides.get(endpoint)?.shift();
    if (queued !== undefined) {
      response = typeof queued === "function" ? await queued(request) : queued;
    } else {
      response =
        (await context.faults.httpFault(request, endpoint, context.log)) ??
        (await route.handler(context, request));
    }
  }
  return cors && request.headers.has("origin") ? corsHeaders(request, response) : response;
}

/** The fake server's fetch handler: routes, runs the pipeline and logs the request. */
export function createRouter(
  server: ServerContext,
  controls: Controls,
): (request: Request) => Promise<Response> {
  const routes = routeTable(server.config.paths);
  return async (request) => {
    server.state.sweep();
    const url = new URL(request.url);
    const route = routes.get(url.pathname) ?? NOT_FOUND;
    const { endpoint } = route;
    const log: LogContext = {
      params: request.method === "GET" ? parseParams(url.searchParams).raw : {},
      grantType: undefined,
      faults: [],
    };
    const context: RequestContext = { ...server, log };
    const record = (status: number): void => {
      server.state.log(
        Object.freeze({
          endpoint,
          method: request.method,
          path: url.pathname,
          params: Object.freeze(log.params),
          headers: Object.freeze(Object.fromEntries(request.headers)),
          ...(log.grantType === undefined ? {} : { grantType: log.grantType }),
          status,
          ...(log.faults.length === 0 ? {} : { faults: Object.freeze([...log.faults]) }),
        }),
      );
    };
    const chain = [...controls.middlewares];
    const run = async (index: number): Promise<Response> => {
      const middleware = chain[index];
      if (middleware === undefined) {
        return serve(context, controls, route, request);
      }
      return middleware(request, () => run(index + 1), { endpoint });
    };
    let response: Response;
    try {
      response = await run(0);
    } catch (error) {
      if (isDroppedConnection(error)) {
        record(0);
        throw error;
      }
      response = json(500, { error: "server_error", error_description: String(error) }, NO_STORE);
    }
    record(response.status);
    return response;
  };
}
