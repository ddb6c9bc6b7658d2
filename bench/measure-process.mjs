// How the process benchmarks measure a process from the outside: wall time from spawn to exit,
// taken by this process, and peak RSS (VmHWM) reported by GNU time (`/usr/bin/time -f %M`, the
// kernel's getrusage of the child) — nothing is preloaded into the measured process, so
// `node -e 0` is the plain baseline. GNU time is Debian's `time` package
// (scripts/system-packages.txt). Not a benchmark itself; imported by the others.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";
if (!existsSync(GNU_TIME)) {
  console.error(
    `${GNU_TIME} is missing: node scripts/system-packages.mjs installs it (Debian: time)`,
  );
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), "latchkey-bench-time-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** The peak RSS in KiB GNU time wrote to `file` (its last line; a signal note may precede it). */
function peakKiB(file) {
  const lines = readFileSync(file, "utf8").trim().split("\n");
  return Number(lines.at(-1));
}

/**
 * Runs `command args` to its exit under GNU time: `{ ms, rssKiB, stdout }`. Throws on a
 * non-zero exit, with its stderr.
 */
export function measureSync(command, args, options = {}) {
  const out = join(scratch, `${counter++}.txt`);
  const started = process.hrtime.bigint();
  const result = spawnSync(GNU_TIME, ["-f", "%M", "-o", out, command, ...args], {
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0)
    throw new Error(`${[command, ...args].join(" ")} exited ${result.status}: ${result.stderr}`);
  const rssKiB = peakKiB(out);
  rmSync(out, { force: true });
  return { ms, rssKiB, stdout: result.stdout };
}

/**
 * Like measureSync, but without blocking this process's event loop (for a command that talks to
 * a server this process runs).
 */
export function measure(command, args, options = {}) {
  const out = join(scratch, `${counter++}.txt`);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let stdout = "";
    let stderr = "";
    const child = spawn(GNU_TIME, ["-f", "%M", "-o", out, command, ...args], {
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) {
        reject(new Error(`${[command, ...args].join(" ")} exited ${code}: ${stderr}`));
        return;
      }
      const rssKiB = peakKiB(out);
      rmSync(out, { force: true });
      resolve({ ms, rssKiB, stdout });
    });
  });
}

/**
 * Starts a server process and measures it up to the moment it is ready (its stdout matches
 * `options.ready`, by default a first complete line): `{ ms, rssKiB }`, the time from spawn to
 * then and the peak RSS so far (VmHWM of /proc/<pid>/status, read then). The process is then
 * ended (SIGTERM) and its exit awaited.
 */
export function measureUntilReady(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let result;
    let stdout = "";
    let stderr = "";
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
      if (result !== undefined || !(options.ready ?? /\n/).test(stdout)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      result = { ms, rssKiB: Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]) };
      child.kill("SIGTERM");
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (result) resolve(result);
      else
        reject(
          new Error(
            `${[command, ...args].join(" ")} exited ${code} before it was ready: ${stderr}`,
          ),
        );
    });
  });
}

/** The q-quantile (0.5: median) of numbers. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
