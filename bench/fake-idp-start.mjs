// Process start of the `latchkey-fake-idp` bin, as a test suite or script pays it: from spawn to
// its JSON line on stdout (it listens then), beside plain `node -e 0` (spawn to exit), the
// unbundled build of the same bin (dist/bin.js, ~50 modules) and oauth2-mock-server 8.2.3's own
// CLI up to its "listening" line. Like for like: each side with an ES256 signing key — the fake
// IdP makes its key at start-up; oauth2-mock-server's CLI can only generate RSA, so it is given a
// pre-made ES256 JWK (--jwk), which spares it the key generation. Peak RSS up to that moment
// (VmHWM). Interleaved runs (bench/measure-process.mjs). Needs `pnpm build`.
// Run: node bench/fake-idp-start.mjs
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { measureSync, measureUntilReady, quantile } from "./measure-process.mjs";

const runs = Number(process.env.BENCH_RUNS ?? 15);
const testing = new URL("../packages/testing/", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", testing), "utf8"));
const bin = fileURLToPath(new URL(pkg.bin["latchkey-fake-idp"], testing));
const unbundled = fileURLToPath(new URL("dist/bin.js", testing));
const mockDir = fileURLToPath(new URL("node_modules/oauth2-mock-server/", testing));
const mockPkg = JSON.parse(readFileSync(join(mockDir, "package.json"), "utf8"));
const mockBin = join(mockDir, mockPkg.bin["oauth2-mock-server"]);

const scratch = mkdtempSync(join(tmpdir(), "latchkey-bench-idp-"));
const jwkFile = join(scratch, "es256.json");
const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
  format: "jwk",
});
writeFileSync(jwkFile, JSON.stringify({ ...jwk, kid: "bench", alg: "ES256", use: "sig" }));

const env = { ...process.env, NO_COLOR: "1" };
const node = process.execPath;
const cases = {
  "node -e 0": () => measureSync(node, ["-e", "0"], { env }),
  "latchkey-fake-idp (bundled bin)": () => measureUntilReady(node, [bin], { env }),
  "latchkey-fake-idp (unbundled dist/bin.js)": () => measureUntilReady(node, [unbundled], { env }),
  [`oauth2-mock-server ${mockPkg.version} CLI`]: () =>
    measureUntilReady(node, [mockBin, "-p", "0", "--jwk", jwkFile], {
      env,
      ready: /listening on/,
    }),
};
const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let i = 0; i < 3; i++) for (const run of Object.values(cases)) await run(); // warm-up
for (let i = 0; i < runs; i++) {
  for (const [name, run] of Object.entries(cases)) results[name].push(await run());
}
rmSync(scratch, { recursive: true, force: true });

const baseMs = quantile(
  results["node -e 0"].map((r) => r.ms),
  0.5,
);
console.log(
  `fake IdP process start (spawn to listening; node -e 0: spawn to exit), ${runs} interleaved runs each, node ${process.version}`,
);
console.log("| case | median ms | p10–p90 ms | ratio | peak RSS MiB |");
console.log("|---|---|---|---|---|");
for (const [name, rows] of Object.entries(results)) {
  const ms = rows.map((r) => r.ms);
  const med = quantile(ms, 0.5);
  const rss = quantile(
    rows.map((r) => r.rssKiB),
    0.5,
  );
  console.log(
    `| ${name} | ${med.toFixed(1)} | ${quantile(ms, 0.1).toFixed(1)}–${quantile(ms, 0.9).toFixed(1)} | ${(med / baseMs).toFixed(2)}× | ${(rss / 1024).toFixed(1)} |`,
  );
}
