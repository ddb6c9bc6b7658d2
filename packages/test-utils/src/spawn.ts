import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { whenDone } from "./cleanup.js";
import { cleanEnv } from "./env.js";

/** The built `latchkey` bundle of this workspace (`pnpm --filter @latchkey/cli build` makes it). */
export const BIN: string = fileURLToPath(
  new URL("../../cli/dist/bundle/latchkey.mjs", import.meta.url),
);

/** How a process ended and what it wrote. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link run} and {@link latchkey}. */
export interface RunOptions {
  /** The environment (default: {@link cleanEnv}). */
  env?: NodeJS.ProcessEnv;
  /** The working directory (default: the test's). */
  cwd?: string;
  /** Written to stdin, which is then closed; without it stdin is `/dev/null`. */
  input?: string;
  /** A hang guard, not a time limit: the process is killed and the promise rejects after it. */
  timeoutMs?: number;
  /** Called with all of stderr so far on each chunk (to answer a prompt, or kill the child). */
  onStderr?: (text: string, child: ChildProcess) => void;
}

/** Every child still running, killed when its test (or file) is done. */
const running = new Set<ChildProcess>();

/**
 * Runs a program to its end with piped output. The child is killed if it outlives
 * `timeoutMs` (default 20 s, then the promise rejects) or the test.
 */
export function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? cleanEnv(),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    running.add(child);
    whenDone(() => stop(child));
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    if (options.input !== undefined) {
      child.stdin?.on("error", () => {}); // a child that exits without reading it
      child.stdin?.end(options.input);
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the real `latchkey` process (the built bundle) with `process.execPath`; see {@link run}. */
export function latchkey(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], options).catch((error: unknown) => {
    throw error instanceof Error
      ? new Error(error.message.replace(`${process.execPath} ${BIN}`, "latchkey"))
      : error;
  });
}

/** Kills a child that is still running and waits until it is gone. */
function stop(child: ChildProcess): Promise<void> | undefined {
  if (!running.has(child)) return undefined;
  return new Promise((resolve) => {
    child.once("close", () => resolve());
    child.kill("SIGKILL");
  });
}

/** Kills every child {@link run} started that is still running (for `afterEach`). */
export function killAll(): void {
  for (const child of running) child.kill("SIGKILL");
}
