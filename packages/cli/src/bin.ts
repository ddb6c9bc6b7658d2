#!/usr/bin/env node
import { writeSync } from "node:fs";
import { runCli } from "./main.js";

const controller = new AbortController();
let interrupted = false;
const onSignal = (): void => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

/**
 * stdout written through its file descriptor. Creating `process.stdout` on a pipe (kubectl's,
 * a script's) loads net and stream and costs `latchkey token` about 4 ms; a token is one
 * synchronous write. A reader that went away (EPIPE, as with `| head -c0`) gets nothing more,
 * quietly, like any Unix filter; any other refusal (a full non-blocking pipe) sends the rest
 * through `process.stdout`. Not on Windows, whose console wants `process.stdout`'s UTF-16 writes.
 */
let stdoutState: "fd" | "stream" | "closed" = process.platform === "win32" ? "stream" : "fd";
let stdoutWatched = false;
let stderrUsed = false;

/** `process.stdout`, with a closed reader (EPIPE) ending the output instead of the process. */
function stdoutStream(): NodeJS.WriteStream {
  if (!stdoutWatched) {
    stdoutWatched = true;
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      stdoutState = "closed";
    });
  }
  return process.stdout;
}

function writeStdout(text: string): boolean {
  if (stdoutState === "closed") return false;
  if (stdoutState === "stream") return stdoutStream().write(text);
  const bytes = Buffer.from(text, "utf8");
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EPIPE") {
      stdoutState = "closed";
      return false;
    }
    stdoutState = "stream";
    return stdoutStream().write(bytes.subarray(written));
  }
}

const code = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: { write: writeStdout },
  // Getters: stderr and stdin are created only if something is written or read.
  get stderr() {
    stderrUsed = true;
    return process.stderr;
  },
  signal: controller.signal,
  get stdin() {
    return process.stdin;
  },
});
process.exitCode = code;
process.off("SIGINT", onSignal);
process.off("SIGTERM", onSignal);
// The command is done: its output written, its store closed and its lock released (runCli
// returns only then). On Node 20 and 22, exit now rather than when Node would: after a request,
// Node waits for V8's background compiles of undici's WebAssembly parser before it exits (on a
// loaded machine 40-70 ms of the gap bench/network-path.mjs prints). Not on Node 24 and later,
// whose exit with that compile in flight peaks 14 MiB higher than waiting for it. Only when
// nothing is still queued for stdout or stderr (a full pipe); otherwise Node exits as usual, once
// the output is out.
const pending = (stream: NodeJS.WriteStream): boolean =>
  stream.writableLength > 0 || stream.writableNeedDrain;
if (
  Number(process.versions.node.split(".")[0]) < 24 &&
  !(stdoutWatched && pending(process.stdout)) &&
  !(stderrUsed && pending(process.stderr))
)
  process.exit(code);
