import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";

const require = createRequire(import.meta.url);

/** The built `latchkey` bundle (run `pnpm --filter @latchkey/cli build` first). */
export const BIN: string = join(
  dirname(require.resolve("@latchkey/cli/package.json")),
  "dist/bundle/latchkey.mjs",
);

/** The stand-in browser for oidc-provider (login + consent + device forms, cookie jar). */
export const OIDC_BROWSER_SCRIPT: string = fileURLToPath(
  new URL("../fixtures/oidc-browser.mjs", import.meta.url),
);
export const OIDC_BROWSER = `${process.execPath} ${OIDC_BROWSER_SCRIPT}`;

/** The stand-in browser of the CLI's own tests: follows the fake server's auto-approval. */
export const FOLLOW_BROWSER = `${process.execPath} ${join(
  dirname(require.resolve("@latchkey/cli/package.json")),
  "test/fixtures/follow-browser.mjs",
)}`;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A temporary directory removed when the test finishes. */
export function tempDir(prefix = "latchkey-interop-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment of a user without a display, a browser or colours, and no LATCHKEY_*. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const name of Object.keys(env)) {
    if (
      name.startsWith("LATCHKEY_") ||
      ["DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "SSH_CONNECTION", "SSH_TTY"].includes(name) ||
      name === "KUBERNETES_EXEC_INFO"
    )
      delete env[name];
  }
  return { ...env, ...extra };
}

const running = new Set<ChildProcess>();

/** Runs the real `latchkey` process; killed if it outlives `timeoutMs` or the test. */
export function latchkey(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env ?? cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`latchkey ${args[0]} did not finish in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Kills every `latchkey` child still running (for afterEach). */
export function killAll(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}

/** Every regular file under a directory with its bytes, for before/after comparisons. */
export function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) files.set(path, readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

/** The one credentials file of a file store directory. */
export function credentialsFile(dir: string): string {
  const files = readdirSync(dir).filter((f) => /^credentials-.*\.json$/.test(f));
  if (files.length !== 1) throw new Error(`expected one credentials file, found ${files.length}`);
  return join(dir, files[0] as string);
}
