// What Node's module compile cache gives the `latchkey` bin (it turns it on, where Node has
// `module.enableCompileCache`, before loading its bundle: packages/cli/scripts/bundle.mjs): the
// stored-token `latchkey token` (file store) with the cache off (NODE_DISABLE_COMPILE_CACHE=1)
// and on (warm: its cache written by the warm-up runs), beside `node -e 0`, on this Node and on
// the Node 22 and 24 binaries scripts/test-runtimes.mjs keeps in node_modules/.cache (the
// runtimes not there are skipped). Interleaved runs, measured from outside
// (bench/measure-process.mjs). Needs `pnpm build`. Run: node bench/compile-cache.mjs
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { measureSync, quantile } from "./measure-process.mjs";

const runs = Number(process.env.BENCH_RUNS ?? 15);
const bin = fileURLToPath(new URL("../packages/cli/dist/bundle/latchkey.mjs", import.meta.url));
const follow = fileURLToPath(
  new URL("../packages/cli/test/fixtures/follow-browser.mjs", import.meta.url),
);
const runtimesDir = fileURLToPath(
  new URL("../node_modules/.cache/latchkey-node-runtimes", import.meta.url),
);
const runtimes = [process.execPath];
for (const version of existsSync(runtimesDir) ? readdirSync(runtimesDir).sort() : []) {
  const node = join(runtimesDir, version, "package", "bin", "node");
  if (existsSync(node)) runtimes.push(node);
}

const idp = await startFakeAuthorizationServer({});
const scratch = mkdtempSync(join(tmpdir(), "latchkey-bench-cache-"));
const storeDir = join(scratch, "store");
const common = ["--issuer", idp.issuer, "--client-id", "latchkey", "--store", "file"];
common.push("--store-dir", storeDir);
// The compile cache goes to os.tmpdir()/node-compile-cache: a scratch TMPDIR keeps it here.
const env = { ...process.env, NO_COLOR: "1", TMPDIR: join(scratch) };
delete env.DISPLAY;
delete env.NODE_COMPILE_CACHE;
delete env.NODE_DISABLE_COMPILE_CACHE;

await new Promise((resolve, reject) => {
  const child = spawn(
    process.execPath,
    [bin, "login", "-q", ...common, "--browser-command", `${process.execPath} ${follow}`],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  child.on("exit", (code) =>
    code === 0 ? resolve() : reject(new Error(`login failed (${code}): ${stderr}`)),
  );
});

const version = (node) => measureSync(node, ["--version"], { env }).stdout.trim();
const cases = [];
for (const node of runtimes) {
  const v = version(node);
  cases.push({ node, v, name: "node -e 0", args: ["-e", "0"], env });
  const token = [bin, "token", "--no-login", ...common];
  const off = { ...env, NODE_DISABLE_COMPILE_CACHE: "1" };
  cases.push({ node, v, name: "latchkey token, compile cache off", args: token, env: off });
  cases.push({ node, v, name: "latchkey token, compile cache on", args: token, env });
}
const results = new Map(cases.map((c) => [c, []]));
for (let i = 0; i < 3; i++) for (const c of cases) measureSync(c.node, c.args, { env: c.env });
for (let i = 0; i < runs; i++) {
  for (const c of cases) results.get(c).push(measureSync(c.node, c.args, { env: c.env }));
}
await idp.close();
const cacheWritten = existsSync(join(scratch, "node-compile-cache"));
rmSync(scratch, { recursive: true, force: true });

console.log(
  `module compile cache, stored-token latchkey token (file store), ${runs} interleaved runs each, ${process.platform}/${process.arch}; cache written: ${cacheWritten ? "yes" : "no"}`,
);
console.log("| node | case | median ms | p10–p90 ms | vs node -e 0 | median peak RSS MiB |");
console.log("|---|---|---|---|---|---|");
const base = new Map();
for (const c of cases) {
  const ms = results.get(c).map((r) => r.ms);
  const rss = results.get(c).map((r) => r.rssKiB);
  const med = quantile(ms, 0.5);
  if (c.name === "node -e 0") base.set(c.node, med);
  console.log(
    `| ${c.v} | ${c.name} | ${med.toFixed(1)} | ${quantile(ms, 0.1).toFixed(1)}–${quantile(ms, 0.9).toFixed(1)} | ${(med / base.get(c.node)).toFixed(2)}× | ${(quantile(rss, 0.5) / 1024).toFixed(1)} |`,
  );
}
