// Many processes on one credential (issue 15 goal 5): N concurrent `latchkey token` processes
// (default 50) on one stored credential of the file store, (a) with a valid token, (b) with an
// expired one — every process sees it expired, waits for the credentials lock, and exactly one
// refreshes (S40). Wall time of the whole batch, from the first spawn to the last exit, measured
// from outside; rounds interleaved (valid, expired, valid, …), medians and spreads; and the
// refreshes the fake server saw in each expired round (must be exactly 1). Needs `pnpm build`.
// BENCH_RUNS (default 15) / 3 sets the rounds (at least 3); a first argument sets the batch
// size; a second one, another build of the bin (a copy of packages/cli/dist/bundle from another
// commit), measured on the expired token in the same rounds, interleaved: a before/after figure
// from one run (node bench/many-processes.mjs 50 /tmp/before/latchkey.mjs).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { fileStoreArgs, headlessEnv } from "./cli-session.mjs";
import { quantile } from "./measure-process.mjs";

const rounds = Math.max(3, Math.round(Number(process.env.BENCH_RUNS ?? 15) / 3));
const processes = Number(process.argv[2] ?? 50);
const bin = fileURLToPath(new URL("../packages/cli/dist/bundle/latchkey.mjs", import.meta.url));
const otherBin = process.argv[3];
const follow = fileURLToPath(
  new URL("../packages/cli/test/fixtures/follow-browser.mjs", import.meta.url),
);
// The bench rewrites the stored expiry itself, through the store the CLI uses.
const dist = new URL("../packages/keyring-store/dist/index.js", import.meta.url).href;
const { FileCredentialLock, FileTokenStore } = await import(dist);

const idp = await startFakeAuthorizationServer({ refreshTokenRotation: true });
const storeDir = mkdtempSync(join(tmpdir(), "latchkey-bench-many-"));
const common = fileStoreArgs(idp.issuer, storeDir);
const env = headlessEnv();

/**
 * Runs a command to its exit; its stdout, or a rejection with its stderr (never a token) when it
 * fails or, for `latchkey token`, prints nothing.
 */
function run(args, printsToken = true) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    // "close", not "exit": the output may still be in flight when the process exits.
    child.on("close", (code, signal) =>
      code === 0 && (!printsToken || stdout.trim() !== "")
        ? resolve(stdout)
        : reject(new Error(`latchkey exited ${code ?? signal} with no token: ${stderr}`)),
    );
  });
}

await run(
  [bin, "login", "-q", ...common, "--browser-command", `${process.execPath} ${follow}`],
  false,
);

const store = new FileTokenStore({ directory: storeDir });
const [stored] = await store.list();
if (stored === undefined) throw new Error("the login stored no credentials");
const { key } = stored;

/** Makes the stored access token expired (its refresh token stays valid). */
async function expire() {
  const credentials = await store.get(key);
  await store.set(key, { ...credentials, expiresAt: Date.now() - 60_000 });
}

/** One batch: N processes at once; the wall time and the refreshes the server saw. */
async function batch(command = bin) {
  const before = idp.count("token", { grantType: "refresh_token" });
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: processes }, () => run([command, "token", "--no-login", ...common])),
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, refreshes: idp.count("token", { grantType: "refresh_token" }) - before };
}

const results = { valid: [], expired: [], other: [] };
await batch(); // warm-up (file cache, compile cache)
for (let i = 0; i < rounds; i++) {
  results.valid.push(await batch());
  await expire();
  results.expired.push(await batch());
  if (otherBin !== undefined) {
    await expire();
    results.other.push(await batch(otherBin));
  }
}

// The lock handover alone, the same run: N processes wait on a lock this process holds; from its
// release until the last has taken and released it in turn and exited. Woken by the watcher
// (the default) against the back-off alone (`watch: false`), interleaved. Each says READY just
// before it asks for the lock.
const waiterCode = `const { FileCredentialLock } = await import(${JSON.stringify(dist)});
const [directory, watch, key] = process.argv.slice(1);
const lock = new FileCredentialLock({ directory, watch: watch === "watch" });
process.stdout.write("READY\\n");
await (await lock.acquire(JSON.parse(key)))();`;
async function handover(watch) {
  const holder = new FileCredentialLock({ directory: storeDir });
  const release = await holder.acquire(key);
  const exits = [];
  const ready = [];
  for (let i = 0; i < processes; i++) {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", waiterCode, storeDir, watch, JSON.stringify(key)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    ready.push(new Promise((resolve) => child.stdout.once("data", resolve)));
    exits.push(
      new Promise((resolve, reject) =>
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`waiter ${code}`)))),
      ),
    );
  }
  await Promise.all(ready);
  const started = process.hrtime.bigint();
  await release();
  await Promise.all(exits);
  return Number(process.hrtime.bigint() - started) / 1e6;
}
const handovers = { watch: [], nowatch: [] };
for (let i = 0; i < rounds; i++) {
  handovers.watch.push(await handover("watch"));
  handovers.nowatch.push(await handover("nowatch"));
}
await idp.close();
rmSync(storeDir, { recursive: true, force: true });

const valid = results.valid.map((r) => r.ms);
const expired = results.expired.map((r) => r.ms);
const refreshes = results.expired.map((r) => r.refreshes);
const validRefreshes = results.valid.map((r) => r.refreshes);
const med = (xs) => quantile(xs, 0.5);
console.log(
  `${processes} concurrent \`latchkey token\` (file store) on one credential, ${rounds} interleaved rounds, node ${process.version}, ${process.platform}/${process.arch}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log("| case | median batch ms | p10–p90 ms | ratio | refreshes per round |");
console.log("|---|---|---|---|---|");
console.log(
  `| ${processes} × latchkey token, valid token | ${med(valid).toFixed(0)} | ${quantile(valid, 0.1).toFixed(0)}–${quantile(valid, 0.9).toFixed(0)} | 1.00× | ${validRefreshes.join(", ")} |`,
);
console.log(
  `| ${processes} × latchkey token, expired token | ${med(expired).toFixed(0)} | ${quantile(expired, 0.1).toFixed(0)}–${quantile(expired, 0.9).toFixed(0)} | ${(med(expired) / med(valid)).toFixed(2)}× | ${refreshes.join(", ")} |`,
);
if (otherBin !== undefined) {
  const other = results.other.map((r) => r.ms);
  console.log(
    `| ${processes} × ${otherBin} token, expired token (the other build) | ${med(other).toFixed(0)} | ${quantile(other, 0.1).toFixed(0)}–${quantile(other, 0.9).toFixed(0)} | ${(med(other) / med(valid)).toFixed(2)}× | ${results.other.map((r) => r.refreshes).join(", ")} |`,
  );
  refreshes.push(...results.other.map((r) => r.refreshes));
}
{
  const woken = handovers.watch;
  const polled = handovers.nowatch;
  const row = (name, xs) =>
    `| ${processes} waiters, lock release → all through, ${name} | ${med(xs).toFixed(0)} | ${quantile(xs, 0.1).toFixed(0)}–${quantile(xs, 0.9).toFixed(0)} | ${(med(xs) / med(polled)).toFixed(2)}× | |`;
  console.log(row("woken on release (default)", woken));
  console.log(row("back-off alone (watch: false)", polled));
}
if (refreshes.some((n) => n !== 1) || validRefreshes.some((n) => n !== 0)) {
  console.error(
    `expected exactly 1 refresh per expired round and none per valid round, saw ${refreshes.join(", ")} / ${validRefreshes.join(", ")}`,
  );
  process.exitCode = 1;
}
