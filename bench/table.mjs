// Runs every benchmark of this folder once, side by side in the same run, and prints ONE table
// (ratios, medians, spreads), then writes it with the machine and the date to bench/RESULTS.md,
// followed by each benchmark's own output. Needs `pnpm build`. Run: node bench/table.mjs
// BENCH_RUNS (default 15 here) sets the runs of the process benchmarks.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";

const env = { ...process.env, BENCH_RUNS: process.env.BENCH_RUNS ?? "15" };
const scripts = [
  ["token-hot-path.mjs", []],
  ["full-login.mjs", []],
  ["fake-server-startup-and-roundtrips.mjs", []],
  ["oidc-provider-startup-and-roundtrips.mjs", []],
  ["core-bundle-size.mjs", []],
];
const outputs = {};
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
const find = (script, label) =>
  rows(outputs[script]).find((r) => r.some((c) => c.startsWith(label)));
const num = (text) => Number.parseFloat(String(text ?? "NaN"));
const ratio = (a, b) => {
  const r = a / b;
  if (!Number.isFinite(r) || r === 0) return "n/a";
  return r < 0.1 ? `${r.toPrecision(2)}× (1/${(1 / r).toFixed(0)})` : `${r.toFixed(2)}×`;
};

const table = [];
function add(measure, ours, oursSpread, other, otherValue, unit, lowerIsBetter = true) {
  table.push({
    measure,
    ours: Number.isFinite(ours) ? `${ours} ${unit}` : "n/a",
    spread: oursSpread ?? "",
    other,
    otherValue: Number.isFinite(otherValue) ? `${otherValue} ${unit}` : "n/a",
    ratio: ratio(ours, otherValue) + (lowerIsBetter ? "" : " (higher is better)"),
  });
}

// `token` hot path: | case | median ms | p10–p90 ms | ratio | median peak RSS MiB | ratio |
// One pair of rows per store measured (the keyring ones only inside a D-Bus session).
{
  const node = find("token-hot-path.mjs", "node -e 0");
  const stores = [
    ["file store", "latchkey token (file store)"],
    ["OS keyring", "latchkey token (keyring)"],
    ["OS keyring via --store auto", "latchkey token (--store auto"],
  ];
  for (const [store, label] of stores) {
    const lk = find("token-hot-path.mjs", label);
    if (!lk) continue;
    add(
      `\`latchkey token\` hot path, ${store}, wall time (median)`,
      num(lk[1]),
      lk[2] && `p10–p90 ${lk[2]} ms`,
      "`node -e 0`",
      num(node?.[1]),
      "ms",
    );
    add(
      `\`latchkey token\` hot path, ${store}, peak RSS (median)`,
      num(lk[4]),
      "",
      "`node -e 0`",
      num(node?.[4]),
      "MiB",
    );
  }
}
// Full login: | case | median ms | p10–p90 ms | ratio |
{
  const node = find("full-login.mjs", "node -e 0");
  const fake = find("full-login.mjs", "latchkey login, fake");
  const op = find("full-login.mjs", "latchkey login, oidc");
  add(
    "full headless `latchkey login`, fake server (median)",
    num(fake?.[1]),
    fake?.[2] && `p10–p90 ${fake[2]} ms`,
    "`node -e 0`",
    num(node?.[1]),
    "ms",
  );
  add(
    "full headless `latchkey login`, oidc-provider login + consent (median)",
    num(op?.[1]),
    op?.[2] && `p10–p90 ${op[2]} ms`,
    "`node -e 0`",
    num(node?.[1]),
    "ms",
  );
}
// Fake server vs oauth2-mock-server (node:http client): console.table
{
  const ours = find("fake-server-startup-and-roundtrips.mjs", "@latchkey/testing");
  const mock = find("fake-server-startup-and-roundtrips.mjs", "oauth2-mock-server");
  // cells: index, server, startup median, startup max, round trip median, round trips/s
  add(
    "fake server startup (median)",
    num(ours?.[2]),
    ours?.[3] && `max ${ours[3]} ms`,
    "oauth2-mock-server 8.2.3",
    num(mock?.[2]),
    "ms",
  );
  add(
    "fake server code-flow round trip (median, node:http client)",
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
    "fake server startup (median)",
    num(ours?.[1]),
    ours?.[2] && `max ${ours[2]} ms`,
    "oidc-provider 9.13",
    num(op?.[1]),
    "ms",
  );
  add(
    "fake server code-flow round trip (median, fetch client)",
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
    "@latchkey/core browser bundle (minified + gzip -9)",
    num(core?.[2]),
    core?.[1] && `${core[1]} KB minified`,
    "openid-client",
    num(oc?.[2]),
    "KB",
  );
  add(
    "@latchkey/core browser bundle (minified + gzip -9)",
    num(core?.[2]),
    "",
    "oauth4webapi (its HTTP layer)",
    num(o4?.[2]),
    "KB",
  );
}

const header = "| measure | latchkey | latchkey spread | compared with | their value | ratio |";
const lines = [header, "|---|---|---|---|---|---|"];
for (const r of table)
  lines.push(
    `| ${r.measure} | ${r.ours} | ${r.spread} | ${r.other} | ${r.otherValue} | ${r.ratio} |`,
  );
const machine = `${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${process.platform} ${release()}, node ${process.version}`;
const date = new Date().toISOString();
const text = lines.join("\n");
console.log(`latchkey benchmarks — ${date}\n${machine}; BENCH_RUNS=${env.BENCH_RUNS}\n`);
console.log(text);

const raw = scripts
  .map(([script]) => `### ${script}\n\n\`\`\`\n${(outputs[script] ?? "").trim()}\n\`\`\``)
  .join("\n\n");
writeFileSync(
  new URL("RESULTS.md", import.meta.url),
  `# Benchmark results\n\nGenerated by \`node bench/table.mjs\` (\`pnpm bench\`); every figure below comes from the same run.\n\n- Date: ${date}\n- Machine: ${machine}\n- Runs: BENCH_RUNS=${env.BENCH_RUNS} for the process benchmarks; 15 startups and 2 s of round trips for the servers\n\nRatios are latchkey's value divided by the other's (below 1× means smaller or faster). Spreads are p10–p90 unless marked max.\n\n${text}\n\n## Raw outputs\n\n${raw}\n`,
);
process.exit(failed ? 1 : 0);
