// Runs every benchmark of this folder once, side by side in the same run, and prints ONE table
// (ratios, medians, spreads), then writes it with the machine and the date to bench/RESULTS.md,
// followed by each benchmark's own output. Needs `pnpm build`. Run: node bench/table.mjs
// BENCH_RUNS (default 15 here) sets the runs of the process benchmarks. Then draws the table's
// ratios in bench/results.svg (bench/chart.mjs) and rewrites the README figures taken from it
// (bench/readme-figures.mjs).
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { chart } from "./chart.mjs";
import { formatMarkdown, writeReadmeFigures } from "./readme-figures.mjs";

const env = { ...process.env, BENCH_RUNS: process.env.BENCH_RUNS ?? "15" };
const scripts = [
  ["token-hot-path.mjs", []],
  ["many-processes.mjs", []],
  ["compile-cache.mjs", []],
  ["full-login.mjs", []],
  ["network-path.mjs", []],
  ["fake-idp-start.mjs", []],
  ["fake-server-startup-and-roundtrips.mjs", []],
  ["oidc-provider-startup-and-roundtrips.mjs", []],
  ["core-bundle-size.mjs", []],
];
const outputs = {};
const loadBefore = loadavg();
let failed = 0;
for (const [script, args] of scripts) {
  process.stderr.write(`running ${script}…\n`);
  const result = spawnSync(process.execPath, [new URL(script, import.meta.url).pathname, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  outputs[script] = result.stdout;
  if (result.status !== 0) {
    failed++;
    process.stderr.write(`${script} failed (exit ${result.status}):\n${result.stderr}\n`);
  }
}

/** Rows of the markdown tables (`| a | b |`) or console.table boxes (`│ a │ b │`) of an output. */
function rows(text = "") {
  const found = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    let cells;
    if (trimmed.startsWith("|") && !/^\|[-\s|]+\|$/.test(trimmed)) cells = trimmed.split("|");
    else if (trimmed.startsWith("│")) cells = trimmed.split("│");
    else continue;
    found.push(cells.slice(1, -1).map((c) => c.trim().replace(/^'(.*)'$/, "$1")));
  }
  return found;
}
/** The first row of a script's output with a cell starting with each label. */
const find = (script, ...labels) =>
  rows(outputs[script]).find((r) => labels.every((label) => r.some((c) => c.startsWith(label))));
const num = (text) => Number.parseFloat(String(text ?? "NaN"));
const ratio = (a, b) => {
  const r = a / b;
  if (!Number.isFinite(r) || r === 0) return "n/a";
  return r < 0.1 ? `${r.toPrecision(2)}× (1/${(1 / r).toFixed(0)})` : `${r.toFixed(2)}×`;
};

const table = [];
/**
 * One row of the table. `id` is stable: README regions (`<!-- bench:<id> -->`) and the chart
 * name rows by it. `target` is the goal's bound for the ratio (issue 15), if it has one.
 */
function add(id, measure, ours, oursSpread, other, otherValue, unit, target) {
  table.push({
    id,
    measure,
    ours: Number.isFinite(ours) ? `${ours} ${unit}` : "n/a",
    spread: oursSpread ?? "",
    other,
    otherValue: Number.isFinite(otherValue) ? `${otherValue} ${unit}` : "n/a",
    ratio: ratio(ours, otherValue),
    value: ours / otherValue,
    target: target === undefined ? "" : `≤ ${target}×`,
    bound: target,
  });
}
const NODE = "`node -e 0`";

// `token` hot path: | case | median ms | p10–p90 ms | ratio | median peak RSS MiB | ratio |
// One pair of rows per store measured (the keyring ones only inside a D-Bus session).
{
  const node = find("token-hot-path.mjs", "node -e 0");
  const stores = [
    ["file", "file store", "latchkey token (file store)", 1.2],
    ["keyring", "OS keyring", "latchkey token (keyring)", 1.3],
    ["auto", "OS keyring via --store auto", "latchkey token (--store auto", 1.3],
  ];
  for (const [key, store, label, bound] of stores) {
    const lk = find("token-hot-path.mjs", label);
    if (!lk) continue;
    add(
      `token-${key}-wall`,
      `\`latchkey token\` stored token, ${store}, wall time (median)`,
      num(lk[1]),
      lk[2] && `p10–p90 ${lk[2]} ms`,
      NODE,
      num(node?.[1]),
      "ms",
      bound,
    );
    add(
      `token-${key}-rss`,
      `\`latchkey token\` stored token, ${store}, peak RSS (median)`,
      num(lk[4]),
      "",
      NODE,
      num(node?.[4]),
      "MiB",
      1.15,
    );
  }
}
// Many processes: | case | median batch ms | p10–p90 ms | ratio | refreshes per round |
// (then the lock handover rows: woken on release, and the back-off alone)
{
  const ofCase = (end) => rows(outputs["many-processes.mjs"]).find((r) => r[0]?.endsWith(end));
  const valid = ofCase("valid token");
  const expired = ofCase("expired token");
  const count = /^(\d+) ×/.exec(expired?.[0] ?? "")?.[1] ?? "50";
  add(
    "many-processes-expired",
    `${count} concurrent \`latchkey token\` on one expired credential, file store, one refresh (median batch wall time)`,
    num(expired?.[1]),
    expired?.[2] && `p10–p90 ${expired[2]} ms; refreshes per round ${expired[4]}`,
    `the same ${count} with a valid token`,
    num(valid?.[1]),
    "ms",
    1.2,
  );
  const woken = ofCase("woken on release (default)");
  const polled = ofCase("back-off alone (watch: false)");
  add(
    "many-processes-lock-handover",
    `${count} processes waiting on one credentials lock, from its release until all took it in turn and exited (median)`,
    num(woken?.[1]),
    woken?.[2] && `p10–p90 ${woken[2]} ms`,
    "the same with the back-off alone (`watch: false`)",
    num(polled?.[1]),
    "ms",
  );
}
// Compile cache: | node | case | median ms | p10–p90 ms | vs node -e 0 | median peak RSS MiB |
for (const row of rows(outputs["compile-cache.mjs"])) {
  if (!row[1]?.endsWith("compile cache on")) continue;
  const off = find("compile-cache.mjs", row[0], "latchkey token, compile cache off");
  const major = /^v(\d+)/.exec(row[0])?.[1] ?? row[0];
  add(
    `compile-cache-node${major}`,
    `\`latchkey token\` stored token, file store, Node ${row[0]}, compile cache on (median)`,
    num(row[2]),
    row[3] && `p10–p90 ${row[3]} ms`,
    "the same run with the compile cache off",
    num(off?.[2]),
    "ms",
  );
}
// Full login: | case | median ms | p10–p90 ms | ratio |
{
  const node = find("full-login.mjs", "node -e 0");
  const fake = find("full-login.mjs", "latchkey login, fake");
  const op = find("full-login.mjs", "latchkey login, oidc");
  add(
    "login-fake-node-browser-wall",
    "full headless `latchkey login`, fake server, a Node process as the browser (median)",
    num(fake?.[1]),
    fake?.[2] && `p10–p90 ${fake[2]} ms`,
    NODE,
    num(node?.[1]),
    "ms",
  );
  add(
    "login-oidc-provider-wall",
    "full headless `latchkey login`, oidc-provider, login form, no consent (median)",
    num(op?.[1]),
    op?.[2] && `p10–p90 ${op[2]} ms`,
    NODE,
    num(node?.[1]),
    "ms",
    2,
  );
}
// Network path: | node | case | median ms | p10–p90 ms | vs node -e 0 | median peak RSS MiB | vs node -e 0 | median exit gap ms |
// This Node's rows keep the plain ids; other runtimes' get a -node<major> suffix.
for (const row of rows(outputs["network-path.mjs"])) {
  if (row[1] !== "node -e 0") continue;
  const node = row;
  const major = /^v(\d+)/.exec(node[0])?.[1] ?? node[0];
  const suffix = node[0] === process.version ? "" : `-node${major}`;
  const on = suffix ? `, Node ${node[0]}` : "";
  const cases = [
    ["token-refresh", "`latchkey token` that refreshes", "latchkey token, refresh"],
    [
      "login-fake",
      "full headless `latchkey login`, fake server, curl as the browser",
      "latchkey login",
    ],
  ];
  for (const [id, what, label] of cases) {
    const lk = find("network-path.mjs", node[0], label);
    if (!lk) continue;
    const gap = lk[7] ? `; exit gap ${lk[7]} ms` : "";
    add(
      `${id}${suffix}-wall`,
      `${what}${on}, wall time (median)`,
      num(lk[2]),
      lk[3] && `p10–p90 ${lk[3]} ms${gap}`,
      NODE,
      num(node[2]),
      "ms",
      2,
    );
    add(
      `${id}${suffix}-rss`,
      `${what}${on}, peak RSS (median; goal ≤ 60 MiB)`,
      num(lk[5]),
      "",
      NODE,
      num(node[5]),
      "MiB",
    );
  }
}
// Fake IdP process start: | case | median ms | p10–p90 ms | ratio | peak RSS MiB |
{
  const node = find("fake-idp-start.mjs", "node -e 0");
  const bundled = find("fake-idp-start.mjs", "latchkey-fake-idp (bundled");
  const unbundled = find("fake-idp-start.mjs", "latchkey-fake-idp (unbundled");
  const mock = find("fake-idp-start.mjs", "oauth2-mock-server");
  add(
    "fake-idp-start",
    "`latchkey-fake-idp` process start to listening, bundled bin (median)",
    num(bundled?.[1]),
    bundled?.[2] && `p10–p90 ${bundled[2]} ms`,
    NODE,
    num(node?.[1]),
    "ms",
    1.3,
  );
  add(
    "fake-idp-start-unbundled",
    "`latchkey-fake-idp` process start to listening, unbundled dist/bin.js (median)",
    num(unbundled?.[1]),
    unbundled?.[2] && `p10–p90 ${unbundled[2]} ms`,
    NODE,
    num(node?.[1]),
    "ms",
  );
  add(
    "fake-idp-start-vs-mock",
    "`latchkey-fake-idp` process start to listening, bundled bin (median)",
    num(bundled?.[1]),
    "",
    `${mock?.[0] ?? "oauth2-mock-server CLI"} (pre-made ES256 key)`,
    num(mock?.[1]),
    "ms",
  );
}
// Fake server vs oauth2-mock-server (node:http client): console.table
{
  const ours = find("fake-server-startup-and-roundtrips.mjs", "@latchkey/testing");
  const mock = find("fake-server-startup-and-roundtrips.mjs", "oauth2-mock-server");
  // cells: index, server, startup median, startup max, round trip median, round trips/s
  add(
    "fake-server-start-vs-mock",
    "fake server in-process start, ES256 key made at start (median)",
    num(ours?.[2]),
    ours?.[3] && `max ${ours[3]} ms`,
    "oauth2-mock-server 8.2.3",
    num(mock?.[2]),
    "ms",
  );
  add(
    "fake-server-round-trip-vs-mock",
    "fake server code-flow round trip, ES256 (median, node:http client)",
    num(ours?.[4]),
    ours?.[5] && `${ours[5]} round trips/s`,
    "oauth2-mock-server 8.2.3",
    num(mock?.[4]),
    "ms",
  );
}
// Fake server vs oidc-provider (fetch client): | server | startup median | max | rt median | rt p10–p90 | rt/s |
{
  const ours = find("oidc-provider-startup-and-roundtrips.mjs", "@latchkey/testing");
  const op = find("oidc-provider-startup-and-roundtrips.mjs", "oidc-provider");
  add(
    "fake-server-start-vs-oidc-provider",
    "fake server in-process start, ES256 key made at start (median)",
    num(ours?.[1]),
    ours?.[2] && `max ${ours[2]} ms`,
    "oidc-provider 9.13",
    num(op?.[1]),
    "ms",
  );
  add(
    "fake-server-round-trip-vs-oidc-provider",
    "fake server code-flow round trip, ES256, no consent (median, fetch client)",
    num(ours?.[3]),
    ours?.[4] && `p10–p90 ${ours[4]} ms`,
    "oidc-provider 9.13",
    num(op?.[3]),
    "ms",
  );
}
// Bundle size: | bundle | minified KB | gzip KB |
{
  const core = find("core-bundle-size.mjs", "@latchkey/core");
  const oc = find("core-bundle-size.mjs", "openid-client");
  const o4 = find("core-bundle-size.mjs", "oauth4webapi");
  add(
    "core-bundle-vs-openid-client",
    "@latchkey/core browser bundle, whole entry (minified + gzip -9)",
    num(core?.[2]),
    core?.[1] && `${core[1]} KB minified`,
    "openid-client, whole entry",
    num(oc?.[2]),
    "KB",
  );
  const app = find("core-bundle-size.mjs", "what a browser login + refresh app");
  add(
    "core-bundle-app",
    "@latchkey/core browser bundle, login + refresh import set (minified + gzip -9)",
    num(app?.[2]),
    app?.[1] && `${app[1]} KB minified`,
    "openid-client, whole entry",
    num(oc?.[2]),
    "KB",
  );
  add(
    "core-bundle-vs-oauth4webapi",
    "@latchkey/core browser bundle, whole entry (minified + gzip -9)",
    num(core?.[2]),
    "",
    "oauth4webapi (its HTTP layer), whole entry",
    num(o4?.[2]),
    "KB",
  );
}

const loadAfter = loadavg();
const header =
  "| id | measure | latchkey | latchkey spread | compared with | their value | ratio | target |";
const lines = [header, "|---|---|---|---|---|---|---|---|"];
for (const r of table)
  lines.push(
    `| ${r.id} | ${r.measure} | ${r.ours} | ${r.spread} | ${r.other} | ${r.otherValue} | ${r.ratio} | ${r.target} |`,
  );
const machine = `${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${process.platform} ${release()}, node ${process.version}`;
const load = (l) => l.map((x) => x.toFixed(2)).join(" / ");
const date = new Date().toISOString();
const text = lines.join("\n");
console.log(`latchkey benchmarks — ${date}\n${machine}; BENCH_RUNS=${env.BENCH_RUNS}\n`);
console.log(text);

const raw = scripts
  .map(([script]) => `### ${script}\n\n\`\`\`\n${(outputs[script] ?? "").trim()}\n\`\`\``)
  .join("\n\n");
const resultsUrl = new URL("RESULTS.md", import.meta.url);
writeFileSync(
  resultsUrl,
  formatMarkdown(
    "bench/RESULTS.md",
    `# Benchmark results\n\nGenerated by \`node bench/table.mjs\` (\`pnpm bench\`); every figure below comes from the same run. Do not edit: the READMEs' figures (\`<!-- bench:<id> -->\` regions, rewritten by \`node bench/readme-figures.mjs\`) and [results.svg](results.svg) come from this table.\n\n- Date: ${date}\n- Machine: ${machine}\n- Load average (1 / 5 / 15 min) before the run: ${load(loadBefore)}; after: ${load(loadAfter)}\n- Runs: BENCH_RUNS=${env.BENCH_RUNS} for the process benchmarks (interleaved with their baseline); 15 startups and 2 s of round trips for the servers\n- Process figures are measured from outside: wall time from spawn to exit, peak RSS from GNU time (\`/usr/bin/time\`) or \`/proc/<pid>/status\` VmHWM; the baseline \`node -e 0\` has nothing preloaded\n\nRatios are latchkey's value divided by the other's (below 1× means smaller or faster); a target is the goal's bound for the ratio. Spreads are p10–p90 unless marked max.\n\n${text}\n\n![The ratios of the table against their peers and floors](results.svg)\n\n## Raw outputs\n\n${raw}\n`,
  ),
);
writeFileSync(new URL("results.svg", import.meta.url), chart(table, { date, machine }));
for (const file of writeReadmeFigures()) console.error(`rewrote the figures of ${file}`);
process.exit(failed ? 1 : 0);
