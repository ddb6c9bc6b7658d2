// A minimal oidc-provider 9 (from packages/interop's dev dependencies) on 127.0.0.1:0 for the
// benchmarks: the public native client `latchkey`, dev interactions, refresh tokens on
// offline_access + prompt=consent. Not a benchmark itself; imported by the others.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(new URL("../packages/interop/package.json", import.meta.url));
const { default: Provider } = await import(require.resolve("oidc-provider"));

let key;
/** Starts oidc-provider; resolves once it listens. */
export async function startOidcProvider() {
  key ??= {
    ...generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }),
    kid: "bench",
    use: "sig",
    alg: "RS256",
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
      },
    ],
    cookies: { keys: [randomBytes(16).toString("hex")] },
    jwks: { keys: [key] },
    features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
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
