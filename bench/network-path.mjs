// The CLI's network path (issue 15, goal 2): `latchkey token` that must refresh (a stored token
// and `--min-validity 86400`, so discovery + a refresh_token grant + the store write) and a full
// headless `latchkey login` (discovery, loopback server, curl as the browser, PKCE code exchange,
// the store), both against @latchkey/testing's fake server, beside plain `node -e 0`; interleaved
// runs measured from outside (bench/measure-process.mjs: wall time from spawn to exit, peak RSS
// from GNU time, nothing preloaded). Also the exit gap: the time from the process's last output
// (stdout or stderr) to its exit (what Node waits for after the work is done). On Node 20 and, when
// scripts/test-runtimes.mjs has fetched them, Node 22 and 24. Needs `pnpm build`.
// Run: node bench/network-path.mjs
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { RUNTIMES } from "../scripts/test-runtimes.mjs";
import { GNU_TIME, quantile } from "./measure-process.mjs";

const runs = Number(process.env.BENCH_RUNS ?? 15);
// BENCH_LATCHKEY_BIN: another build of the bin (a copy of packages/cli/dist/bundle from another
// commit), to compare before and after a change with this same script.
const bin =
  process.env.BENCH_LATCHKEY_BIN ??
  fileURLToPath(new URL("../packages/cli/dist/bundle/latchkey.mjs", import.meta.url));
const cache = fileURLToPath(
  new URL("../node_modules/.cache/latchkey-node-runtimes/", import.meta.url),
);
const nodes = [process.execPath];
for (const version of Object.values(RUNTIMES)) {
  const node = join(cache, version, "package", "bin", "node");
  if (existsSync(node)) nodes.push(node);
}

const idp = await startFakeAuthorizationServer({});
const scratch = mkdtempSync(join(tmpdir(), "latchkey-bench-net-"));
const env = { ...process.env, NO_COLOR: "1" };
for (const name of ["DISPLAY", "WAYLAND_DISPLAY", "BROWSER"]) delete env[name];
const server = ["--issuer", idp.issuer, "--client-id", "latchkey"];
const curl = "curl -sSfL -o /dev/null";

/**
 * Runs `node args` under GNU time: `{ ms, rssKiB, gapMs }`, gapMs the time from the last output
 * (stdout or stderr) to the exit (undefined when nothing was written). Not spawnSync: the fake server answers
 * from this very process.
 */
function run(node, args) {
  const out = join(scratch, "time.txt");
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let lastOutput;
    let stderr = "";
    const child = spawn(GNU_TIME, ["-f", "%M", "-o", out, node, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", () => {
      lastOutput = process.hrtime.bigint();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      lastOutput = process.hrtime.bigint();
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const ended = process.hrtime.bigint();
      if (code !== 0) {
        reject(new Error(`${args.slice(0, 2).join(" ")} exited ${code}: ${stderr}`));
        return;
      }
      const rssKiB = Number(readFileSync(out, "utf8").trim().split("\n").at(-1));
      resolve({
        ms: Number(ended - started) / 1e6,
        rssKiB,
        gapMs: lastOutput === undefined ? undefined : Number(ended - lastOutput) / 1e6,
      });
    });
  });
}

const results = [];
for (const node of nodes) {
  const version =
    (await new Promise((resolve) => {
      const child = spawn(node, ["-p", "process.version"], { stdio: ["ignore", "pipe", "ignore"] });
      let text = "";
      child.stdout.on("data", (d) => {
        text += d;
      });
      child.on("close", () => resolve(text.trim()));
    })) || node;
  const storeDir = mkdtempSync(join(scratch, "store-"));
  const store = ["--store", "file", "--store-dir", storeDir];
  await run(node, [bin, "login", "-q", ...server, ...store, "--browser-command", curl]);
  const cases = {
    "node -e 0": ["-e", "0"],
    "latchkey token, refresh": [
      bin,
      "token",
      "--no-login",
      "--min-validity",
      "86400",
      ...server,
      ...store,
    ],
    "latchkey login, curl as the browser": [
      bin,
      "login",
      ...server,
      "--store",
      "memory",
      "--browser-command",
      curl,
    ],
  };
  const rows = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (const args of Object.values(cases)) await run(node, args); // warm-up
  for (let i = 0; i < runs; i++)
    for (const [name, args] of Object.entries(cases)) rows[name].push(await run(node, args));
  results.push({ version, rows });
}
await idp.close();
rmSync(scratch, { recursive: true, force: true });

console.log(
  `network path of the CLI against the fake server, ${runs} interleaved runs each, ${process.platform}/${process.arch}; peak RSS from GNU time, nothing preloaded; exit gap = last output (stdout or stderr) to exit`,
);
console.log(
  "| node | case | median ms | p10–p90 ms | vs node -e 0 | median peak RSS MiB | vs node -e 0 | median exit gap ms |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const { version, rows } of results) {
  const median = (list, key) =>
    quantile(
      list.map((r) => r[key]),
      0.5,
    );
  const baseMs = median(rows["node -e 0"], "ms");
  const baseRss = median(rows["node -e 0"], "rssKiB");
  for (const [name, list] of Object.entries(rows)) {
    const ms = list.map((r) => r.ms);
    const rss = median(list, "rssKiB");
    const gaps = list.map((r) => r.gapMs).filter((g) => g !== undefined);
    const gap = gaps.length ? quantile(gaps, 0.5).toFixed(1) : "";
    console.log(
      `| ${version} | ${name} | ${median(list, "ms").toFixed(1)} | ${quantile(ms, 0.1).toFixed(1)}–${quantile(ms, 0.9).toFixed(1)} | ${(median(list, "ms") / baseMs).toFixed(2)}× | ${(rss / 1024).toFixed(1)} | ${(rss / baseRss).toFixed(2)}× | ${gap} |`,
    );
  }
}
