import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Provider, { type Configuration } from "oidc-provider";

/** The public native client of docs/development.md: any loopback port, PKCE, no secret. */
export const PUBLIC_CLIENT_ID = "latchkey";
/** A confidential client for the client-credentials grant. */
export const SERVICE_CLIENT_ID = "service";
export const SERVICE_CLIENT_SECRET = `svc-${randomBytes(16).toString("hex")}`;

/** What one oidc-provider event (a grant issued, a token revoked, ...) looked like. */
export interface ProviderEvent {
  name: string;
  grantType?: string;
}

export interface RunningOidcProvider {
  issuer: string;
  provider: Provider;
  /** Events the provider emitted, in order (grant.success, grant.error, grant.revoked, ...). */
  events: ProviderEvent[];
  /** Every HTTP request the provider answered: method, path (no query) and status. */
  requests: { method: string; path: string; status: number }[];
  /** How many successful token responses with this grant type were sent. */
  grants(grantType: string): number;
  close(): Promise<void>;
}

export interface OidcProviderOptions {
  /** A path for the issuer, e.g. `/tenant-a` (served by stripping it, as a mounted app). */
  path?: string;
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number;
  /** Koa middleware installed in front of oidc-provider's own (to make it misbehave). */
  middleware?: readonly Parameters<Provider["use"]>[0][];
}

let signingKey: Record<string, unknown> | undefined;

function jwks(): { keys: Record<string, unknown>[] } {
  // One RSA key per process (RS256 is oidc-provider's default ID-token algorithm).
  signingKey ??= {
    ...(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      format: "jwk",
    }) as Record<string, unknown>),
    kid: "interop-rs256",
    use: "sig",
    alg: "RS256",
  };
  return { keys: [signingKey] };
}

/**
 * Starts oidc-provider 9 in-process on 127.0.0.1 (port 0), configured as docs/development.md says:
 * a native public client with PKCE, refresh tokens for `offline_access` + `prompt=consent`
 * (rotated for public clients), dev interactions (login + consent forms), device flow,
 * client credentials and revocation. RFC 9207 `iss` is always on in oidc-provider 9.
 */
export async function startOidcProvider(
  options: OidcProviderOptions = {},
): Promise<RunningOidcProvider> {
  const path = options.path ?? "";
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const sockets = new Set<Socket>();
  const requests: RunningOidcProvider["requests"] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    res.on("finish", () => {
      requests.push({
        method: req.method ?? "",
        path: url.split("?")[0] ?? "",
        status: res.statusCode,
      });
    });
    if (!handler || (path && url !== path && !url.startsWith(`${path}/`))) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not_found" }));
      return;
    }
    if (path) {
      // Mounted under the issuer's path, the way express mounts it: oidc-provider derives its
      // mount path from originalUrl minus url.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
      req.url = url.slice(path.length) || "/";
    }
    handler(req, res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}${path}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: PUBLIC_CLIENT_ID,
        application_type: "native",
        token_endpoint_auth_method: "none",
        redirect_uris: ["http://127.0.0.1/callback"],
        grant_types: [
          "authorization_code",
          "refresh_token",
          "urn:ietf:params:oauth:grant-type:device_code",
        ],
        response_types: ["code"],
      },
      {
        client_id: SERVICE_CLIENT_ID,
        client_secret: SERVICE_CLIENT_SECRET,
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        scope: "api:read",
      },
    ],
    scopes: ["openid", "offline_access", "api:read"],
    claims: { openid: ["sub"], email: ["email"] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    jwks: jwks() as Configuration["jwks"],
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
    },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      ClientCredentials: 600,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      RefreshToken: 86_400,
    },
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub, email: `${sub}@example.com` }) };
    },
  };
  const provider = new Provider(issuer, configuration);
  const events: ProviderEvent[] = [];
  provider.on("grant.success", (ctx) => {
    events.push({ name: "grant.success", grantType: String(ctx.oidc.params?.grant_type) });
  });
  provider.on("grant.error", (ctx) => {
    events.push({ name: "grant.error", grantType: String(ctx.oidc.params?.grant_type) });
  });
  provider.on("grant.revoked", () => {
    events.push({ name: "grant.revoked" });
  });
  // oidc-provider logs server errors through this event; keep tests quiet but visible on failure.
  provider.on("server_error", (_ctx, error) => {
    events.push({ name: `server_error: ${String(error)}` });
  });
  for (const middleware of options.middleware ?? []) provider.use(middleware);
  handler = provider.callback();

  return {
    issuer,
    provider,
    events,
    requests,
    grants: (grantType) =>
      events.filter((e) => e.name === "grant.success" && e.grantType === grantType).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}
