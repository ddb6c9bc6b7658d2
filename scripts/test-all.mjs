#!/usr/bin/env node
// The whole test suite, as CI runs it: system packages and the build first; then, side by side
// (scripts/steps.mjs), the checks (format and lint, changesets, import cycles, docs, types,
// packages, the release dry run) and every package's vitest runs, on this Node and on the other
// supported lines (scripts/test-runtimes.mjs). Ends with one line "N passed, N failed[, N
// skipped]" totalled over all packages (every .vitest-results*.json the runs wrote). Exits
// non-zero on any failure.
//
//   LATCHKEY_RUNTIMES=0      skip the other Node.js lines
//   LATCHKEY_CONCURRENCY=N   steps run at once (default: the CPUs + 1: most steps wait on children)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runSteps } from "./steps.mjs";
import { installSystemPackages } from "./system-packages.mjs";
import { freshTempDir, leftovers, removeTempDir } from "./temp-leftovers.mjs";
import { runtimeSteps } from "./test-runtimes.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const started = performance.now();
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };
// keytar builds from source here (no prebuilt download): against the system's Node headers.
if (!env.npm_config_nodedir && existsSync("/usr/include/node/node.h"))
  env.npm_config_nodedir = "/usr";

const timings = [];
function run(name, command, args) {
  console.error(`\n$ ${command} ${args.join(" ")}`);
  const begun = performance.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  timings.push({ name, status: result.status ?? 1, seconds: (performance.now() - begun) / 1000 });
  return result.status ?? 1;
}

const packagesDir = join(root, "packages");
const packages = readdirSync(packagesDir).filter((name) =>
  existsSync(join(packagesDir, name, "package.json")),
);
// The packages with tests (test-utils, the shared helpers, has none of its own).
const tested = packages.filter(
  (name) => JSON.parse(readFileSync(join(packagesDir, name, "package.json"), "utf8")).scripts?.test,
);
const resultFiles = (name) =>
  readdirSync(join(packagesDir, name)).filter((file) => /^\.vitest-results.*\.json$/.test(file));
for (const name of packages) {
  for (const file of resultFiles(name)) rmSync(join(packagesDir, name, file), { force: true });
}

// 1. What everything else needs, one after the other.
const system = installSystemPackages();
timings.push({ name: "system packages", status: system.status, seconds: 0 });
// Native addons (keytar) that could not build before the libraries were there.
if (system.installed.length) run("rebuild native addons", "pnpm", ["rebuild"]);
run("build", "pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"]);

// 2. Side by side, the longest first. Their temp files go to a fresh TMPDIR, which must be empty
// (and no process of theirs still running) once they are done (scripts/temp-leftovers.mjs).
const testTmp = freshTempDir();
env.TMPDIR = testTmp;
const pnpm = (name, args, cwd) => ({ name, command: "pnpm", args, cwd });
const testOf = (name) => pnpm(`packages/${name} tests`, ["run", "test"], join(packagesDir, name));
const longest = ["cli", "interop"].filter((name) => tested.includes(name));
const runtimes =
  env.LATCHKEY_RUNTIMES === "0" ? { steps: [], failures: [] } : runtimeSteps(undefined, env);
for (const failure of runtimes.failures) {
  console.error(failure);
  timings.push({ name: failure, status: 1, seconds: 0 });
}
const steps = [
  ...longest.map(testOf),
  ...runtimes.steps.filter((step) => !step.name.startsWith("packages/core ")),
  // What a release would ship, packed and installed with npm outside the workspace, then run.
  { name: "release dry run", command: "node", args: ["scripts/release-dry-run.mjs"] },
  ...tested.filter((name) => !longest.includes(name)).map(testOf),
  ...runtimes.steps.filter((step) => step.name.startsWith("packages/core ")),
  pnpm("typecheck", ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]),
  // Format, lint and import order: what `biome check` reports is what a reviewer would.
  pnpm("biome check", ["exec", "biome", "check", "."]),
  pnpm("package checks", ["exec", "turbo", "run", "check:package", "--output-logs=errors-only"]),
  // No import cycles inside a package's sources, type-only and dynamic imports included.
  pnpm("import cycles", [
    "exec",
    "madge",
    "--circular",
    "--extensions",
    "ts",
    ...packages.map((name) => `packages/${name}/src`).filter((dir) => existsSync(join(root, dir))),
  ]),
  // Every changeset must parse, or no release can be cut (`changeset version` fails the same way).
  pnpm("changeset status", ["exec", "changeset", "status"]),
  // Every S-id, "defect N", document and relative link the repository cites resolves (docs/).
  { name: "docs", command: "node", args: ["scripts/check-docs.mjs"] },
  // The README figures check itself (bench/readme-figures.mjs), on made-up READMEs.
  { name: "bench figures", command: "node", args: ["--test", "bench/readme-figures.test.mjs"] },
  // Every published entry's exports carry TSDoc (scripts/check-api.mjs, on the build).
  { name: "public API", command: "node", args: ["scripts/check-api.mjs"] },
];
const concurrency = Number(env.LATCHKEY_CONCURRENCY) || availableParallelism() + 1;
timings.push(...(await runSteps(steps, { concurrency, cwd: root, env })));
const left = leftovers(testTmp);
if (left.length) console.error(`\nLeft behind by the tests:\n${left.join("\n")}`);
timings.push({ name: "nothing left in TMPDIR", status: left.length, seconds: 0 });
removeTempDir(testTmp);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of tested) {
  const files = resultFiles(name);
  if (files.length === 0) {
    console.error(`packages/${name}: no test results (its test run did not complete)`);
    failed += 1;
    continue;
  }
  for (const file of files) {
    const report = JSON.parse(readFileSync(join(packagesDir, name, file), "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    // A test file that failed to load counts as a failure even though it ran no test.
    failed += report.testResults.filter(
      (result) => result.status === "failed" && result.assertionResults.length === 0,
    ).length;
  }
}
// A runtime step that never wrote its results.
for (const step of runtimes.steps) {
  if (!existsSync(step.results)) {
    console.error(`${step.name}: no test results (its test run did not complete)`);
    failed += 1;
  }
}

console.error(`\nTime per step (${concurrency} at once after the build):`);
for (const { name, status, seconds } of timings)
  console.error(`${seconds.toFixed(1).padStart(7)} s  ${status === 0 ? "  " : "✗ "}${name}`);
console.error(`${((performance.now() - started) / 1000).toFixed(1).padStart(7)} s  in all`);
const failedSteps = timings.filter(({ status }) => status !== 0).map(({ name }) => name);
if (failedSteps.length) console.error(`\nFailed steps: ${failedSteps.join(", ")}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failedSteps.length || failed ? 1 : 0);
