// `latchkey token` with a valid stored token (the path kubectl and scripts hit on every call)
// against plain `node -e 0` (nothing preloaded), in the same run: wall time and peak RSS measured
// from outside (bench/measure-process.mjs), interleaved runs, medians and spreads. Also an empty
// ES module, the floor of any ESM bin (Node's ESM loader), for reference.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { fileStoreArgs, headlessEnv } from "./cli-session.mjs";
import { measureSync, quantile } from "./measure-process.mjs";

const runs = Number(process.env.BENCH_RUNS ?? 30);
const bin = fileURLToPath(new URL("../packages/cli/dist/bundle/latchkey.mjs", import.meta.url));
const follow = fileURLToPath(
  new URL("../packages/cli/test/fixtures/follow-browser.mjs", import.meta.url),
);

const idp = await startFakeAuthorizationServer({});
const storeDir = mkdtempSync(join(tmpdir(), "latchkey-bench-"));
const common = fileStoreArgs(idp.issuer, storeDir);
const env = headlessEnv();

await new Promise((resolve, reject) => {
  const child = spawn(
    process.execPath,
    [bin, "login", "-q", ...common, "--browser-command", `${process.execPath} ${follow}`],
    // Not inherited: the login prints its authorization URL, state included.
    { env, stdio: "ignore" },
  );
  child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`login failed: ${code}`))));
});

const measure = (args) => measureSync(process.execPath, args, { env });

const emptyModule = join(storeDir, "empty.mjs");
writeFileSync(emptyModule, "");
const cases = {
  "node -e 0": ["-e", "0"],
  "node empty.mjs": [emptyModule],
  "latchkey token (file store)": [bin, "token", "--no-login", ...common],
};
if (process.env.DBUS_SESSION_BUS_ADDRESS) {
  // Inside a D-Bus session with an unlocked keyring (bench/run.mjs arranges it): the same
  // token in the OS keyring, read with --store keyring and with the default --store auto.
  const keyringArgs = ["--issuer", idp.issuer, "--client-id", "latchkey", "--store-dir", storeDir];
  // Not spawnSync: the fake server answers from this very process.
  await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        bin,
        "login",
        "-q",
        "--store",
        "keyring",
        ...keyringArgs,
        "--browser-command",
        `${process.execPath} ${follow}`,
      ],
      { env, stdio: "ignore" },
    );
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`keyring login failed: ${code}`)),
    );
  });
  cases["latchkey token (keyring)"] = [
    bin,
    "token",
    "--no-login",
    "--store",
    "keyring",
    ...keyringArgs,
  ];
  cases["latchkey token (--store auto → keyring)"] = [bin, "token", "--no-login", ...keyringArgs];
}
const results = {};
for (const name of Object.keys(cases)) results[name] = [];
for (let i = 0; i < 3; i++) for (const args of Object.values(cases)) measure(args); // warm-up
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) results[name].push(measure(args)); // interleaved
}
await idp.close();
rmSync(storeDir, { recursive: true, force: true });

const base = results["node -e 0"];
const baseMs = quantile(
  base.map((r) => r.ms),
  0.5,
);
const baseRss = quantile(
  base.map((r) => r.rssKiB),
  0.5,
);
console.log(
  `token hot path, ${runs} interleaved runs each, node ${process.version}, ${process.platform}/${process.arch}; peak RSS from GNU time, nothing preloaded`,
);
console.log("| case | median ms | p10–p90 ms | ratio | median peak RSS MiB | ratio |");
console.log("|---|---|---|---|---|---|");
for (const [name, rows] of Object.entries(results)) {
  const ms = rows.map((r) => r.ms);
  const rss = rows.map((r) => r.rssKiB);
  const med = quantile(ms, 0.5);
  const medRss = quantile(rss, 0.5);
  console.log(
    `| ${name} | ${med.toFixed(1)} | ${quantile(ms, 0.1).toFixed(1)}–${quantile(ms, 0.9).toFixed(1)} | ${(med / baseMs).toFixed(2)}× | ${(medRss / 1024).toFixed(1)} | ${(medRss / baseRss).toFixed(2)}× |`,
  );
}
