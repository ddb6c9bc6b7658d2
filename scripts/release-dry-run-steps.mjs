// Helpers of scripts/release-dry-run.mjs: running commands as named steps (their output kept for
// the failure message, none left running), and the pure checks on versions and manifests.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A failure of one step: its name, what went wrong, and what the command printed. */
export class StepFailure extends Error {
  constructor(step, message, output = "") {
    super(message);
    this.step = step;
    this.output = output;
  }
}

/** Runs commands as the current step, in `env`; every process it starts is stopped by `stopAll`. */
export class Steps {
  step = "set-up";
  /** Every process started without waiting for it, with a promise of its end. */
  #children = new Map();

  constructor(env) {
    this.env = env;
  }

  fail(message, output) {
    throw new StepFailure(this.step, message, output);
  }

  /** Runs a command to its end (killed after `timeoutMs`). */
  run(command, args, { cwd, timeoutMs = 120_000, extraEnv = {}, allowFailure = false } = {}) {
    const result = spawnSync(command, args, {
      cwd,
      env: { ...this.env, ...extraEnv },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
      killSignal: "SIGKILL",
    });
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    const what = `${command.split("/").pop()} ${args.join(" ")}`.slice(0, 200);
    if (result.error) this.fail(`${what}: ${result.error.message}`, output);
    if (!allowFailure && result.status !== 0) {
      this.fail(`${what} exited with ${result.status ?? result.signal}`, output);
    }
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, output };
  }

  /** The same, without blocking (the two npm installs run side by side). */
  runAsync(command, args, { cwd, label, timeoutMs = 180_000 } = {}) {
    const name = this.step;
    const what = `${command} ${args[0]} (${label})`;
    return new Promise((resolve, reject) => {
      const child = this.#spawn(command, args, cwd, timeoutMs);
      child.on("error", (error) => reject(new StepFailure(name, `${what}: ${error.message}`)));
      this.#children.get(child).then(({ status, signal }) => {
        if (status === 0) resolve(child.output);
        else reject(new StepFailure(name, `${what} exited with ${status ?? signal}`, child.output));
      });
    });
  }

  /**
   * Starts a server bin, and resolves with the first line it prints on stdout (undefined if it
   * ends first) and a `stop()` that sends SIGTERM and resolves with its exit status.
   */
  async startServer(command, { cwd, timeoutMs = 30_000 } = {}) {
    const child = this.#spawn(command, [], cwd, timeoutMs);
    const exited = this.#children.get(child);
    child.on("error", () => {});
    const firstLine = await new Promise((resolve) => {
      child.stdout.on("data", () => {
        const newline = child.output.indexOf("\n");
        if (newline >= 0) resolve(child.output.slice(0, newline));
      });
      exited.then(() => resolve(undefined));
    });
    const stop = async () => {
      kill(child, "SIGTERM");
      const { status, signal } = await exited;
      return status ?? signal;
    };
    return { firstLine, stop, output: () => child.output };
  }

  /** Ends what is still running and waits for it. */
  async stopAll() {
    for (const child of this.#children.keys()) kill(child, "SIGKILL");
    await Promise.all(this.#children.values());
  }

  #spawn(command, args, cwd, timeoutMs) {
    // Its own process group: stopping it stops what it started too (npm's keytar compile).
    const child = spawn(command, args, {
      cwd,
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.output = "";
    child.stdout.on("data", (chunk) => {
      child.output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      child.output += chunk;
    });
    // Never a hang: a process that outlives its time is killed, and that is the step's failure.
    const timer = setTimeout(() => kill(child, "SIGKILL"), timeoutMs);
    const closed = new Promise((resolve) => {
      child.on("close", (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal });
      });
      child.on("error", () => {
        clearTimeout(timer);
        resolve({ status: null, signal: "spawn error" });
      });
    });
    this.#children.set(child, closed);
    return child;
  }
}

/** Signals a child's process group (it and what it started); nothing if it has ended. */
function kill(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

export const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

const BUMPS = ["patch", "minor", "major"];

/** The bump each package's changesets ask for, from their front matter. */
export function requestedBumps(changesetDir) {
  const requested = new Map();
  for (const file of readdirSync(changesetDir).filter((name) => name.endsWith(".md"))) {
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(changesetDir, file), "utf8"));
    for (const match of (front?.[1] ?? "").matchAll(/^["']?([^"':]+)["']?\s*:\s*(\w+)/gm)) {
      const [, name, bump] = match;
      if (BUMPS.indexOf(bump) > BUMPS.indexOf(requested.get(name) ?? "")) requested.set(name, bump);
    }
  }
  return requested;
}

/** Which part of a semver version changed between two versions. */
export function bumpOf(from, to) {
  const [a, b] = [from, to].map((version) => version.split(/[.-]/).map(Number));
  if (a[0] !== b[0]) return "major";
  if (a[1] !== b[1]) return "minor";
  return a[2] !== b[2] ? "patch" : "none";
}

/** The files an installed package's manifest names (exports, bin, main, types) that it lacks. */
export function missingTargets(dir, manifest) {
  const targets = [manifest.main, manifest.types];
  const collect = (value) => {
    if (typeof value === "string") targets.push(value);
    else if (value && typeof value === "object")
      for (const inner of Object.values(value)) collect(inner);
  };
  collect(manifest.exports);
  collect(manifest.bin);
  return targets.filter((target) => target && !existsSync(join(dir, target)));
}

/** What the packed package.json says wrongly of its dependencies on the other packed packages. */
export function packedRangeProblems(packed, versions) {
  const problems = [];
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [dependency, range] of Object.entries(packed[field] ?? {})) {
      if (range.startsWith("workspace:"))
        problems.push(`${field} still say ${dependency}@${range}`);
      else if (field === "dependencies" && versions.has(dependency)) {
        const expected = `^${versions.get(dependency)}`;
        if (range !== expected)
          problems.push(`${field} say ${dependency}@${range}, not ${expected}`);
      }
    }
  }
  return problems;
}

/** What a tarball lacks (README, LICENSE: MIT's terms travel with the code) or wrongly holds. */
export function packedFileProblems(listing) {
  const problems = ["package/README.md", "package/LICENSE", "package/package.json"]
    .filter((file) => !listing.includes(file))
    .map((file) => `no ${file.slice("package/".length)}`);
  const tests = listing.filter((file) => /\.test\.[cm]?[jt]s$/.test(file));
  if (tests.length) problems.push(`test files packed: ${tests.slice(0, 3).join(", ")}`);
  return problems;
}
