// Startup time and full authorization-code round trips per second of @latchkey/testing's fake
// authorization server, side by side with oauth2-mock-server 8.2.3, both driven by the same
// minimal client over loopback HTTP (authorize → 302 → token with PKCE). Like for like: each
// makes an ES256 signing key at start-up (the fake server's default; oauth2-mock-server is told
// to) and signs its tokens with it. Needs `pnpm build`.
// Run: node bench/fake-server-startup-and-roundtrips.mjs [--runs N] [--seconds S]
import { createHash, randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const testingPackage = new URL("../packages/testing/package.json", import.meta.url);
const require = createRequire(testingPackage);
const { startFakeAuthorizationServer } = await import(
  new URL("../packages/testing/dist/index.js", import.meta.url).href
);
const { OAuth2Server } = await import(require.resolve("oauth2-mock-server"));

const { values } = parseArgs({
  options: { runs: { type: "string", default: "15" }, seconds: { type: "string", default: "2" } },
});
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const REDIRECT_URI = "http://127.0.0.1:49152/callback";
// The same minimal client for both: node:http over one keep-alive connection, so that the client's
// own cost (undici's fetch costs more than either server) does not hide the servers' difference.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function send(url, options = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, method: options.method ?? "GET", headers: options.headers },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const median = (numbers) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const contenders = {
  "@latchkey/testing": {
    async start() {
      const server = await startFakeAuthorizationServer();
      return {
        authorize: server.endpoints.authorization,
        token: server.endpoints.token,
        close: () => server.close(),
      };
    },
  },
  "oauth2-mock-server 8.2.3": {
    async start() {
      const server = new OAuth2Server();
      await server.issuer.keys.generate("ES256");
      await server.start(0, "127.0.0.1");
      const base = server.issuer.url;
      return { authorize: `${base}/authorize`, token: `${base}/token`, close: () => server.stop() };
    },
  },
};

/** One login as a client would do it: PKCE, authorize (auto-approved), code for tokens. */
async function roundTrip(target) {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const url = new URL(target.authorize);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: "latchkey",
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: "S256",
    scope: "openid",
    state: "s",
  }).toString();
  const authorized = await send(url);
  const code = new URL(authorized.headers.location).searchParams.get("code");
  const token = await send(target.token, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: "latchkey",
    }).toString(),
  });
  const body = JSON.parse(token.body);
  if (token.status !== 200 || typeof body.access_token !== "string") {
    throw new Error(`token request failed: ${token.status} ${JSON.stringify(body)}`);
  }
}

// Interleaved, so that a machine whose load changes during the run weighs on both alike: one
// startup of each in turn, then one round trip against each in turn for 2 × SECONDS.
const names = Object.keys(contenders);
const startups = Object.fromEntries(names.map((name) => [name, []]));
const latencies = Object.fromEntries(names.map((name) => [name, []]));
for (const contender of Object.values(contenders)) {
  // Warm up module code paths once, so both sides are measured warm.
  const warm = await contender.start();
  await roundTrip(warm);
  await warm.close();
}
for (let run = 0; run < RUNS; run += 1) {
  for (const name of names) {
    const started = performance.now();
    const target = await contenders[name].start();
    startups[name].push(performance.now() - started);
    await target.close();
  }
}
const targets = {};
for (const name of names) {
  targets[name] = await contenders[name].start();
  for (let index = 0; index < 20; index += 1) await roundTrip(targets[name]);
}
const deadline = performance.now() + names.length * SECONDS * 1000;
while (performance.now() < deadline) {
  for (const name of names) {
    const started = performance.now();
    await roundTrip(targets[name]);
    latencies[name].push(performance.now() - started);
  }
}
for (const target of Object.values(targets)) await target.close();
const rows = names.map((name) => ({
  server: name,
  "startup median (ms)": median(startups[name]).toFixed(1),
  "startup max (ms)": Math.max(...startups[name]).toFixed(1),
  "round trip median (ms)": median(latencies[name]).toFixed(2),
  // Round trips a second of its own time (the sides took turns).
  "round trips/s": (
    latencies[name].length /
    (latencies[name].reduce((sum, ms) => sum + ms, 0) / 1000)
  ).toFixed(0),
}));
console.log(
  `fake server startup (${RUNS} runs) and sequential code-flow round trips (${SECONDS} s each)`,
);
console.table(rows);
const [ours, theirs] = rows;
agent.destroy();
console.log(
  `throughput ratio: ${(Number(ours["round trips/s"]) / Number(theirs["round trips/s"])).toFixed(2)}x`,
);
