// A minimal oidc-provider 9 (from packages/interop's dev dependencies) on 127.0.0.1:0 for the
// benchmarks, set up to do the work @latchkey/testing's fake server does: the public native
// client `latchkey`; an ES256 signing key made at each start (as the fake server makes its own);
// ID tokens signed with it; no consent form (the grant is made on the spot, as the fake server
// approves at once: loadExistingGrant); a refresh token with every code (issueRefreshToken). It
// still shows its dev login form once per browser session, which the fake server does not have.
// Not a benchmark itself; imported by the others.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(new URL("../packages/interop/package.json", import.meta.url));
const { default: Provider } = await import(require.resolve("oidc-provider"));

/** Starts oidc-provider; resolves once it listens. */
export async function startOidcProvider() {
  const key = {
    ...generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }),
    kid: "bench",
    use: "sig",
    alg: "ES256",
  };
  let handler;
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: "latchkey",
        application_type: "native",
        token_endpoint_auth_method: "none",
        redirect_uris: ["http://127.0.0.1/callback"],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        id_token_signed_response_alg: "ES256",
      },
    ],
    cookies: { keys: [randomBytes(16).toString("hex")] },
    jwks: { keys: [key] },
    features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    // The consent the fake server does not ask for: a grant of the requested scopes, made at once.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.params.scope ?? "openid");
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  });
  handler = provider.callback();
  return {
    issuer,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Silences oidc-provider's development-mode warnings (they go to console.warn/info). */
export function quietOidcProvider() {
  const keep = { warn: console.warn, info: console.info };
  console.warn = (...args) => {
    if (!String(args[0]).includes("oidc-provider")) keep.warn(...args);
  };
  console.info = (...args) => {
    if (!String(args[0]).includes("oidc-provider")) keep.info(...args);
  };
}
