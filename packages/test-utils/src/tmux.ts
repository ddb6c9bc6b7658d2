import { execFile } from "node:child_process";
import { watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { whenDone } from "./cleanup.js";
import { tempDir } from "./temp.js";

const execTmux = promisify(execFile);
let sessions = 0;

/** A program running in a real terminal: a tmux server of its own, with one session. */
export interface TmuxSession {
  /** Runs a tmux command against this session's server; resolves its stdout. */
  tmux(...args: string[]): Promise<string>;
  /**
   * The pane's text (with up to 200 lines of scrollback) once it matches `pattern`: looked at
   * again each time the program writes to the pane (`tmux pipe-pane` into a watched file), never
   * on a timer. No time limit of its own: the test's timeout is the hang guard.
   */
  waitFor(pattern: RegExp): Promise<string>;
  /** Types `text` literally into the pane, then Enter. */
  type(text: string): Promise<void>;
}

/** Resolves on the next change of `file`; `stop()` gives up waiting. */
function nextWrite(file: string): { written: Promise<void>; stop: () => void } {
  let stop = (): void => undefined;
  const written = new Promise<void>((resolve) => {
    const watcher = watch(file, () => {
      watcher.close();
      resolve();
    });
    stop = () => watcher.close();
  });
  return { written, stop };
}

/**
 * Starts `command` (a shell command line) in a detached tmux session of `width`×`height`
 * (default 250×60) in `cwd`. The tmux server is killed when the test finishes.
 */
export async function startTmux(
  command: string,
  options: { cwd?: string; width?: number; height?: number } = {},
): Promise<TmuxSession> {
  const socket = `latchkey-test-${process.pid}-${++sessions}`;
  const tmux = async (...args: string[]): Promise<string> =>
    (await execTmux("tmux", ["-L", socket, ...args], { encoding: "utf8" })).stdout;
  const width = String(options.width ?? 250);
  const height = String(options.height ?? 60);
  const cwd = options.cwd === undefined ? [] : ["-c", options.cwd];
  await tmux("new-session", "-d", "-s", "t", "-x", width, "-y", height, ...cwd, command);
  whenDone(() => tmux("kill-server").catch(() => undefined));
  // Every write to the pane lands in this file too; what came before is in the pane already.
  const output = join(tempDir("latchkey-tmux-"), "pane-output");
  writeFileSync(output, "");
  await tmux("pipe-pane", "-t", "t", `cat >> '${output}'`);
  return {
    tmux,
    async waitFor(pattern) {
      for (;;) {
        const next = nextWrite(output); // before looking, so that no write goes unnoticed
        const pane = await tmux("capture-pane", "-p", "-J", "-t", "t", "-S", "-200");
        if (pattern.test(pane)) {
          next.stop();
          return pane;
        }
        await next.written;
      }
    },
    async type(text) {
      await tmux("send-keys", "-t", "t", "-l", text);
      await tmux("send-keys", "-t", "t", "Enter");
    },
  };
}
