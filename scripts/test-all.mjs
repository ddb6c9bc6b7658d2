#!/usr/bin/env node
// The whole test suite, as CI runs it: system packages, build, lint, typecheck, package checks,
// every package's vitest runs; then one line "N passed, N failed[, N skipped]" totalled over all
// packages (every .vitest-results*.json a package's runs wrote). Exits non-zero on any failure.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { installSystemPackages } from "./system-packages.mjs";
import { freshTempDir, leftovers, removeTempDir } from "./temp-leftovers.mjs";

const root = new URL("..", import.meta.url).pathname;
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };
// keytar builds from source here (no prebuilt download): against the system's Node headers.
if (!env.npm_config_nodedir && existsSync("/usr/include/node/node.h"))
  env.npm_config_nodedir = "/usr";

const timings = [];
function run(command, args, options = {}) {
  console.error(`\n$ ${command} ${args.join(" ")}`);
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env, ...options });
  timings.push([`${command} ${args.join(" ")}`, (performance.now() - started) / 1000]);
  return result.status ?? 1;
}

const packagesDir = join(root, "packages");
const packages = readdirSync(packagesDir).filter((name) =>
  existsSync(join(packagesDir, name, "package.json")),
);
const resultFiles = (name) =>
  readdirSync(join(packagesDir, name)).filter((file) => /^\.vitest-results.*\.json$/.test(file));
for (const name of packages) {
  for (const file of resultFiles(name)) rmSync(join(packagesDir, name, file), { force: true });
}

const steps = [];
const system = installSystemPackages();
steps.push(["system packages", system.status]);
if (system.installed.length) {
  // Native addons (keytar) that could not build before the libraries were there.
  steps.push(["rebuild native addons", run("pnpm", ["rebuild"])]);
}
steps.push(["build", run("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"])]);
// Format, lint and import order: what `biome check` reports is what a reviewer would.
steps.push(["biome check", run("pnpm", ["exec", "biome", "check", "."])]);
// Every changeset must parse, or no release can be cut (`changeset version` fails the same way).
steps.push(["changeset status", run("pnpm", ["exec", "changeset", "status"])]);
// No import cycles inside a package's sources, type-only and dynamic imports included.
const sources = packages
  .map((name) => `packages/${name}/src`)
  .filter((dir) => existsSync(join(root, dir)));
steps.push([
  "import cycles",
  run("pnpm", ["exec", "madge", "--circular", "--extensions", "ts", ...sources]),
]);
// Every S-id, "defect N", document and relative link the repository cites resolves (docs/).
steps.push(["docs", run("node", ["scripts/check-docs.mjs"])]);
steps.push([
  "typecheck",
  run("pnpm", ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]),
]);
steps.push([
  "package checks",
  run("pnpm", ["exec", "turbo", "run", "check:package", "--output-logs=errors-only"]),
]);
// What a release would ship, packed and installed with npm outside the workspace, then run.
steps.push(["release dry run", run("node", ["scripts/release-dry-run.mjs"])]);
// The tests' temp files go to a fresh TMPDIR, which must be empty (and no process of theirs
// still running) once they are done (scripts/temp-leftovers.mjs).
const testTmp = freshTempDir();
env.TMPDIR = testTmp;
steps.push([
  "tests",
  run("pnpm", ["exec", "turbo", "run", "test", "--continue", "--concurrency=1"]),
]);
// core, cli and interop again on Node 22 and 24 (scripts/test-runtimes.mjs); LATCHKEY_RUNTIMES=0 skips.
if (env.LATCHKEY_RUNTIMES !== "0")
  steps.push(["other Node.js runtimes", run("node", ["scripts/test-runtimes.mjs"])]);
const left = leftovers(testTmp);
if (left.length) console.error(`\nLeft behind by the tests:\n${left.join("\n")}`);
steps.push(["nothing left in TMPDIR", left.length]);
removeTempDir(testTmp);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of packages) {
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

console.error("\nTime per step:");
for (const [step, seconds] of timings) console.error(`${seconds.toFixed(1).padStart(7)} s  ${step}`);
const failedSteps = steps.filter(([, status]) => status !== 0).map(([name]) => name);
if (failedSteps.length) console.error(`\nFailed steps: ${failedSteps.join(", ")}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failedSteps.length || failed ? 1 : 0);
