// Startup and authorization-code round trips of @latchkey/testing's fake server beside
// oidc-provider 9, with the same fetch client for both. oidc-provider's round trip reuses a
// session and grant made once through its login and consent forms, so each round trip is, like
// the fake server's auto-approval: authorize → 303 → code → token (PKCE). The RSA signing key is
// generated once before timing (key generation is not server startup). Needs `pnpm build`.
// Run: node bench/oidc-provider-startup-and-roundtrips.mjs [--runs N] [--seconds S]
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { browse } from "../packages/interop/test/fixtures/oidc-browser.mjs";
import { quietOidcProvider, startOidcProvider } from "./oidc-provider-server.mjs";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "15" }, seconds: { type: "string", default: "2" } },
});
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const REDIRECT_URI = "http://127.0.0.1:49152/callback";
quietOidcProvider();

async function metadata(issuer) {
  return (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
}

async function roundTrip(target) {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(target.meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: "latchkey",
    redirect_uri: REDIRECT_URI,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    scope: "openid",
    state: "s",
    nonce: "n",
  }).toString();
  const { finalUrl } = await browse(url.href, {
    jar: target.jar,
    stopAt: (u) => u.startsWith(REDIRECT_URI),
  });
  const code = new URL(finalUrl).searchParams.get("code");
  const response = await fetch(target.meta.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: "latchkey",
    }),
  });
  const body = await response.json();
  if (response.status !== 200 || !body.access_token)
    throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
}

const contenders = {
  "@latchkey/testing": async () => {
    const server = await startFakeAuthorizationServer();
    return { issuer: server.issuer, close: () => server.close() };
  },
  "oidc-provider 9.13": startOidcProvider,
};
const median = (numbers) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)];
const rows = [];
for (const [name, start] of Object.entries(contenders)) {
  await (await start()).close(); // warm-up (and the RSA key, once)
  const startups = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const server = await start();
    startups.push(performance.now() - started);
    await server.close();
  }
  const server = await start();
  const target = { meta: await metadata(server.issuer), jar: new Map() };
  for (let i = 0; i < 10; i++) await roundTrip(target); // the first one logs in and consents
  const latencies = [];
  const deadline = performance.now() + SECONDS * 1000;
  while (performance.now() < deadline) {
    const started = performance.now();
    await roundTrip(target);
    latencies.push(performance.now() - started);
  }
  await server.close();
  rows.push({ name, startups, latencies });
}
console.log(
  `fake server vs oidc-provider: startup (${RUNS} runs) and sequential code-flow round trips (${SECONDS} s each, fetch client)`,
);
console.log(
  "| server | startup median ms | startup max ms | round trip median ms | round trip p10–p90 ms | round trips/s |",
);
console.log("|---|---|---|---|---|---|");
const q = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(p * v.length))];
for (const { name, startups, latencies } of rows) {
  console.log(
    `| ${name} | ${median(startups).toFixed(1)} | ${Math.max(...startups).toFixed(1)} | ${median(latencies).toFixed(2)} | ${q(latencies, 0.1).toFixed(2)}–${q(latencies, 0.9).toFixed(2)} | ${(latencies.length / SECONDS).toFixed(0)} |`,
  );
}
