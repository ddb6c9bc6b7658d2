#!/usr/bin/env node
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

const code = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
  stdin: process.stdin,
});
process.exitCode = code;
process.off("SIGINT", onSignal);
process.off("SIGTERM", onSignal);
