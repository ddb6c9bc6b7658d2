import { readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import { LatchkeyError } from "@latchkey/core/store";
import { normalizeBooleanEnv } from "./apply-flags.js";
import type { CommandModule } from "./command.js";
import { run as runToken } from "./commands/token.js";
import type { CommonFlags } from "./config.js";
import { ExitCode, exitCodeFor, hintFor } from "./exit-codes.js";
import { createOutput, type Output, printable } from "./output.js";
import { type OptionSources, type OptionTable, quickParse } from "./quick-parse.js";
import type { Context } from "./session.js";

// The dispatcher: output set up, the quick path of `latchkey token`, commander for all else
// (program.ts, from the list in src/commands/), and every error turned into its exit code.

/** What the CLI runs against: injectable for tests, `process` by default. */
export interface CliEnvironment {
  /** The arguments after the program name, e.g. `["token", "--json"]`. */
  argv: readonly string[];
  /** The environment variables (`LATCHKEY_*`, proxies, `NO_COLOR`, ...; docs/cli.md). */
  env: Readonly<Record<string, string | undefined>>;
  /** Where data goes; a `Writable`, or anything with its `write(text)`. */
  stdout: Pick<Writable, "write"> | { write(text: string): unknown };
  /** Where messages, prompts and progress go; a terminal (`isTTY`) gets the spinner and colour. */
  stderr: Writable & { isTTY?: boolean };
  /** Cancels whatever is running (Ctrl-C). */
  signal?: AbortSignal;
  /** Where a pasted redirect address is read from (`--flow paste`). */
  stdin?: NodeJS.ReadableStream;
}

declare const __LATCHKEY_VERSION__: string | undefined;
declare const __LATCHKEY_TOKEN_OPTIONS__: OptionTable | undefined;

// The bundle (scripts/bundle.mjs) inlines the table of `token`'s options, taken from commander.
const QUICK_TOKEN_OPTIONS: OptionTable | undefined =
  typeof __LATCHKEY_TOKEN_OPTIONS__ === "undefined" ? undefined : __LATCHKEY_TOKEN_OPTIONS__;

// The bundle (scripts/bundle.mjs) inlines the version; unbundled, it is read from package.json.
const VERSION: string =
  typeof __LATCHKEY_VERSION__ === "string"
    ? __LATCHKEY_VERSION__
    : (
        JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
          version: string;
        }
      ).version;

/**
 * Runs the CLI and returns its exit code (docs/cli.md). Catches every error once, here: a known one
 * becomes one line and a hint on stderr; an unexpected one a short report (the stack with `-v`).
 * It does not call `process.exit`: the caller decides what to do with the code.
 *
 * @returns One of {@link ExitCode}.
 *
 * @example
 * ```ts
 * import { runCli } from "@latchkey/cli";
 * process.exitCode = await runCli({
 *   argv: ["token", "--issuer", "https://login.example.com", "--client-id", "my-cli"],
 *   env: process.env,
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 * });
 * ```
 */
export async function runCli(environment: CliEnvironment): Promise<number> {
  // stderr and stdin are read from the environment only when used: `process.stderr` and
  // `process.stdin` cost a cold start several ms to create, and `latchkey token` uses neither.
  const make = (verbose: boolean, quiet: boolean): Output =>
    createOutput({
      stdout: environment.stdout,
      stderr: () => environment.stderr,
      env: environment.env,
      verbose,
      quiet,
    });
  const ctx: Context = {
    out: make(false, false),
    env: environment.env,
    signal: environment.signal ?? new AbortController().signal,
  };
  if ("stdin" in environment) {
    Object.defineProperty(ctx, "stdin", { get: () => environment.stdin, enumerable: true });
  }
  // Every command starts the same way: its output set up from -v/-q (and the environment).
  const act =
    (command: Pick<CommandModule, "run">) =>
    (flags: Record<string, unknown>, sources: OptionSources): Promise<void> => {
      normalizeBooleanEnv(flags as CommonFlags, sources);
      ctx.out = make(flags.verbose === true, flags.quiet === true && flags.verbose !== true);
      return command.run(flags as never, sources, ctx);
    };
  // The bin's quick way through `latchkey token` (quick-parse.ts); commander for all else.
  const quick =
    QUICK_TOKEN_OPTIONS !== undefined && environment.argv[0] === "token"
      ? quickParse(environment.argv.slice(1), environment.env, QUICK_TOKEN_OPTIONS)
      : undefined;
  try {
    if (quick) {
      await act({ run: runToken })(quick.flags, quick.command);
      return ExitCode.OK;
    }
    const { runProgram } = await import("./program.js");
    const outcome = await runProgram({
      argv: environment.argv,
      version: VERSION,
      // Commander has parsed the flags with the very options these functions read.
      act,
      writeOut: (text) => environment.stdout.write(text),
      writeErr: (text) => environment.stderr.write(text),
      env: environment.env,
    });
    return outcome === "usage" ? ExitCode.USAGE : ExitCode.OK;
  } catch (error) {
    const code = exitCodeFor(error);
    const out = ctx.out;
    if (error instanceof LatchkeyError) {
      out.error(printable(error.message));
      const hint = hintFor(error);
      if (hint && code !== ExitCode.INTERRUPTED) out.info(`hint: ${hint}`);
      out.debug(`error code ${error.code}`);
    } else {
      out.error(
        `unexpected internal error: ${error instanceof Error ? error.name : "unknown"}. Run with -v for details and report it.`,
      );
      if (out.verbose && error instanceof Error && error.stack) out.debug(error.stack);
    }
    return code;
  }
}
