// A full headless login through the real `latchkey` process (discovery, loopback server, the
// stand-in browser, PKCE code exchange, store), against @latchkey/testing's fake server and
// against oidc-provider 9 (ES256, no consent form: bench/oidc-provider-server.mjs; it still shows
// its login form, which the stand-in browser fills), beside `node -e 0`; interleaved
// runs, medians and p10–p90 spreads. Needs `pnpm build`. Run: node bench/full-login.mjs
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { quietOidcProvider, startOidcProvider } from "./oidc-provider-server.mjs";

const runs = Number(process.env.BENCH_RUNS ?? 15);
const bin = fileURLToPath(new URL("../packages/cli/dist/bundle/latchkey.mjs", import.meta.url));
const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const followBrowser = `${process.execPath} ${path("../packages/cli/test/fixtures/follow-browser.mjs")}`;
const oidcBrowser = `${process.execPath} ${path("../packages/interop/test/fixtures/oidc-browser.mjs")}`;

quietOidcProvider();
const fake = await startFakeAuthorizationServer({});
const op = await startOidcProvider();
const env = { ...process.env, NO_COLOR: "1" };
for (const name of ["DISPLAY", "WAYLAND_DISPLAY", "BROWSER"]) delete env[name];

function run(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${args.slice(1, 2)} exited ${code}: ${stderr}`));
      else resolve(ms);
    });
  });
}

const login = (issuer, browser, extra = []) => [
  bin,
  "login",
  "-q",
  "--issuer",
  issuer,
  "--client-id",
  "latchkey",
  "--store",
  "memory",
  "--browser-command",
  browser,
  ...extra,
];
const cases = {
  "node -e 0": ["-e", "0"],
  "latchkey login, fake server (auto-approved)": login(fake.issuer, followBrowser, [
    "--scope",
    "openid",
  ]),
  "latchkey login, oidc-provider (login form, no consent)": login(op.issuer, oidcBrowser, [
    "--scope",
    "openid",
  ]),
};
const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (const args of Object.values(cases)) await run(args); // warm-up
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) results[name].push(await run(args));
}
await fake.close();
await op.close();

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const base = quantile(results["node -e 0"], 0.5);
console.log(
  `full headless login through the CLI, ${runs} interleaved runs each, node ${process.version}, ${process.platform}/${process.arch}`,
);
console.log("| case | median ms | p10–p90 ms | ratio |");
console.log("|---|---|---|---|");
for (const [name, ms] of Object.entries(results)) {
  const med = quantile(ms, 0.5);
  console.log(
    `| ${name} | ${med.toFixed(1)} | ${quantile(ms, 0.1).toFixed(1)}–${quantile(ms, 0.9).toFixed(1)} | ${(med / base).toFixed(2)}× |`,
  );
}
