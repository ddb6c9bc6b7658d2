// Startup and authorization-code round trips of @latchkey/testing's fake server beside
// oidc-provider 9, with the same fetch client for both, doing the same work
// (bench/oidc-provider-server.mjs): each makes an ES256 key at start-up and signs ID tokens with
// it; neither shows a consent form; oidc-provider's round trips reuse the browser session of its
// one login form (the first round trip, before timing), so each round trip is, like the fake
// server's auto-approval: authorize → redirect → code → token (PKCE) with an ID token and a
// refresh token. One difference remains, in oidc-provider's favour: its access tokens are opaque,
// the fake server's are signed JWTs. Needs `pnpm build`.
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
// Interleaved, so that a machine whose load changes during the run weighs on both alike: one
// startup of each in turn, then one round trip against each in turn for 2 × SECONDS.
const names = Object.keys(contenders);
for (const name of names) await (await contenders[name]()).close(); // warm-up
const startups = Object.fromEntries(names.map((name) => [name, []]));
for (let i = 0; i < RUNS; i++) {
  for (const name of names) {
    const started = performance.now();
    const server = await contenders[name]();
    startups[name].push(performance.now() - started);
    await server.close();
  }
}
const servers = {};
const targets = {};
for (const name of names) {
  servers[name] = await contenders[name]();
  targets[name] = { meta: await metadata(servers[name].issuer), jar: new Map() };
  for (let i = 0; i < 10; i++) await roundTrip(targets[name]); // the first one logs in (oidc-provider)
}
const latencyOf = Object.fromEntries(names.map((name) => [name, []]));
const deadline = performance.now() + names.length * SECONDS * 1000;
while (performance.now() < deadline) {
  for (const name of names) {
    const started = performance.now();
    await roundTrip(targets[name]);
    latencyOf[name].push(performance.now() - started);
  }
}
for (const server of Object.values(servers)) await server.close();
const rows = names.map((name) => ({ name, startups: startups[name], latencies: latencyOf[name] }));
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
    `| ${name} | ${median(startups).toFixed(1)} | ${Math.max(...startups).toFixed(1)} | ${median(latencies).toFixed(2)} | ${q(latencies, 0.1).toFixed(2)}–${q(latencies, 0.9).toFixed(2)} | ${(latencies.length / (latencies.reduce((sum, ms) => sum + ms, 0) / 1000)).toFixed(0)} |`,
  );
}
