import { type Command, CommanderError, Command as Program } from "commander";
import type { CommandModule } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { topLevelHelp } from "./help.js";
import * as definitions from "./options.js";
import type { OptionSources } from "./quick-parse.js";

/**
 * The commands as commander parses them, with their help and usage errors, built from the list
 * of commands (src/commands/). Loaded only when needed: `latchkey token` is usually parsed
 * without commander (quick-parse.ts). How a command's run is called (its output set up, its
 * context) is given by the caller ({@link ProgramOptions.act}), so that this module is
 * commander's wiring and nothing else.
 */

/** What a command does with its parsed values; `command` tells where each value came from. */
export type Action = (flags: Record<string, unknown>, command: OptionSources) => Promise<void>;

/** Options of {@link runProgram}. */
export interface ProgramOptions {
  argv: readonly string[];
  version: string;
  /** The action that runs this command (its `run`, in the caller's context). */
  act: (command: CommandModule) => Action;
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
  /** The environment, for the top-level help (the config file's path and profiles). */
  env?: Readonly<Record<string, string | undefined>>;
}

const HELP = (command: Command): Command =>
  command.exitOverride().showHelpAfterError("(run with --help for usage)");

function buildProgram(
  options: ProgramOptions,
  run: (action: () => Promise<void>) => void,
): Program {
  const { argv } = options;
  const program = HELP(
    new Program("latchkey")
      .description("Log in with OAuth 2.0 / OpenID Connect from the command line.")
      .version(options.version, "--version", "print the version"),
  ).addHelpText("after", () => topLevelHelp(options.env ?? {}));
  // Only the command being run needs its twenty-odd options built (a few ms); the others are
  // there by name. Anything else (`--help`, `help`, a typo) builds them all.
  const invoked = COMMANDS.some((command) => command.name === argv[0]) ? argv[0] : undefined;
  for (const command of COMMANDS) {
    if (invoked !== undefined && invoked !== command.name) {
      program.addCommand(HELP(new Program(command.name)));
      continue;
    }
    const action = options.act(command);
    program.addCommand(
      HELP(
        command
          .options(definitions)
          .action((flags: Record<string, unknown>, self: Command) =>
            run(() => action(flags, self)),
          ),
      ),
    );
  }
  const streams = { writeOut: options.writeOut, writeErr: options.writeErr };
  program.configureOutput(streams);
  for (const command of program.commands) command.configureOutput(streams);
  return program;
}

/**
 * Parses the arguments with commander and runs the command's action. `usage` means exit 2
 * (commander has printed why); `ok` that the action ran or help or the version was printed. An
 * action's error is thrown as it is.
 */
export async function runProgram(options: ProgramOptions): Promise<"ok" | "usage"> {
  const ran: { pending?: Promise<void> } = {};
  const program = buildProgram(options, (action) => {
    ran.pending = action();
  });
  try {
    await program.parseAsync([...options.argv], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const shown = ["commander.helpDisplayed", "commander.version", "commander.help"];
    return shown.includes(error.code) ? "ok" : "usage";
  }
  if (ran.pending) {
    await ran.pending;
    return "ok";
  }
  if (options.argv.length === 0) {
    program.outputHelp({ error: true });
    return "usage";
  }
  return "ok";
}
