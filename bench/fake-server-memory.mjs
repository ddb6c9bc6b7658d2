// Heap held by @latchkey/testing's fake authorization server after 1,000 and after 20,000
// in-memory logins (authorize → 302 → token with PKCE, an ID token and a refresh token each):
// its codes, tokens and request log are capped or expire, so the second figure is no higher than
// the first. Needs `pnpm build`.
// Run: node --expose-gc bench/fake-server-memory.mjs [--logins N] [--dist PATH/TO/testing/dist]
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    logins: { type: "string", default: "20000" },
    first: { type: "string", default: "1000" },
    dist: { type: "string" },
  },
});
if (typeof globalThis.gc !== "function") {
  console.error("run with node --expose-gc");
  process.exit(2);
}
const dist =
  values.dist === undefined
    ? new URL("../packages/testing/dist/", import.meta.url)
    : new URL(`file://${values.dist.replace(/\/?$/, "/")}`);
const { createFakeAuthorizationServer } = await import(new URL("index.js", dist).href);
const inspect = await import(new URL("fake/inspect.js", dist).href).catch(() => undefined);

const REDIRECT_URI = "http://127.0.0.1:49152/callback";
const base64url = (buffer) => buffer.toString("base64url");

async function login(fake) {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash("sha256").update(verifier).digest());
  const query = new URLSearchParams({
    response_type: "code",
    client_id: "latchkey",
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: "S256",
    scope: "openid offline_access",
    state: base64url(randomBytes(16)),
  });
  const authorized = await fake.fetch(`${fake.endpoints.authorization}?${query}`);
  const code = new URL(authorized.headers.get("location")).searchParams.get("code");
  const token = await fake.fetch(fake.endpoints.token, {
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
  if (token.status !== 200) {
    throw new Error(`token: ${token.status} ${await token.text()}`);
  }
  await token.json();
}

function heapMiB() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

const first = Number(values.first);
const total = Number(values.logins);
const fake = await createFakeAuthorizationServer({ issuer: "http://127.0.0.1:1" });
const baseline = heapMiB();
for (let index = 0; index < first; index += 1) {
  await login(fake);
}
const afterFirst = heapMiB();
const sizesFirst = inspect?.stateSizes(fake);
const logFirst = fake.requests.length;
for (let index = first; index < total; index += 1) {
  await login(fake);
}
const afterTotal = heapMiB();
const sizesTotal = inspect?.stateSizes(fake);
const logTotal = fake.requests.length;
const fmt = (mib) => `${mib.toFixed(1)} MiB`;
console.log(`heap used, empty server:      ${fmt(baseline)}`);
console.log(
  `heap used after ${String(first).padStart(6)} logins: ${fmt(afterFirst)} (log ${logFirst})`,
);
console.log(
  `heap used after ${String(total).padStart(6)} logins: ${fmt(afterTotal)} (log ${logTotal})`,
);
console.log(`growth from ${first} to ${total} logins: ${fmt(afterTotal - afterFirst)}`);
if (sizesFirst !== undefined) {
  console.log(`tables after ${first}: ${JSON.stringify(sizesFirst)}`);
  console.log(`tables after ${total}: ${JSON.stringify(sizesTotal)}`);
}
