// Runs CI steps side by side: at most `concurrency` child processes at once, started in the order
// given (put the longest first). Each step's output is kept and printed as one block when the
// step ends, so that the log reads step by step however the runs interleave.
import { spawn } from "node:child_process";

// The process groups still running: stopped with this process (Ctrl-C, a CI cancelling).
const live = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    for (const child of live) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
    }
    process.exit(130);
  });
}

/**
 * @typedef {{ name: string, command: string, args: string[], cwd?: string, env?: NodeJS.ProcessEnv }} Step
 * @typedef {{ name: string, status: number, seconds: number }} StepResult
 */

/**
 * Runs every step; resolves with their results in the order given once all have ended.
 * @param {Step[]} steps
 * @param {{ concurrency: number, cwd: string, env: NodeJS.ProcessEnv }} options
 * @returns {Promise<StepResult[]>}
 */
export function runSteps(steps, options) {
  const results = new Array(steps.length);
  let next = 0;
  let running = 0;
  return new Promise((resolve) => {
    const startNext = () => {
      if (next === steps.length && running === 0) resolve(results);
      while (running < options.concurrency && next < steps.length) {
        const index = next++;
        running += 1;
        runOne(steps[index], options).then((result) => {
          results[index] = result;
          running -= 1;
          startNext();
        });
      }
    };
    startNext();
  });
}

/** @returns {Promise<StepResult>} */
function runOne(step, options) {
  const started = performance.now();
  const chunks = [];
  return new Promise((resolve) => {
    const child = spawn(step.command, step.args, {
      cwd: step.cwd ?? options.cwd,
      env: step.env ?? options.env,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that stopping it stops what it started too.
      detached: true,
    });
    live.add(child);
    child.stdout.on("data", (chunk) => chunks.push(chunk));
    child.stderr.on("data", (chunk) => chunks.push(chunk));
    let finished = false;
    const finish = (status) => {
      if (finished) return;
      finished = true;
      live.delete(child);
      const seconds = (performance.now() - started) / 1000;
      const verdict = status === 0 ? "ok" : `FAILED (status ${status})`;
      process.stderr.write(
        `\n── ${step.name}: ${verdict}, ${seconds.toFixed(1)} s\n$ ${step.command} ${step.args.join(" ")}\n`,
      );
      process.stderr.write(Buffer.concat(chunks));
      resolve({ name: step.name, status, seconds });
    };
    child.once("error", (error) => {
      chunks.push(Buffer.from(`${error.message}\n`));
      finish(127);
    });
    child.once("close", (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}
