import { type Command, CommanderError, Command as Program } from "commander";
import { commonCommand, envOption, kubeconfigCommand, tokenCommand } from "./options.js";
import type { OptionSources } from "./quick-parse.js";

/**
 * The commands as commander parses them, with their help and usage errors. Loaded only when
 * needed: `latchkey token` is usually parsed without commander (quick-parse.ts). What each
 * command does is given by the caller ({@link Actions}), so that this module is commander's
 * wiring and nothing else.
 */

/** What a command does with its parsed values; `command` tells where each value came from. */
export type Action = (flags: Record<string, unknown>, command: OptionSources) => Promise<void>;

/** What each command does. */
export interface Actions {
  login: Action;
  token: Action;
  refresh: Action;
  logout: Action;
  status: Action;
  demo: Action;
  kubeconfig: Action;
}

/** Options of {@link runProgram}. */
export interface ProgramOptions {
  argv: readonly string[];
  version: string;
  actions: Actions;
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
}

const HELP = (command: Command): Command =>
  command.exitOverride().showHelpAfterError("(run with --help for usage)");

function buildProgram(
  options: ProgramOptions,
  run: (action: () => Promise<void>) => void,
): Program {
  const { argv, actions } = options;
  const program = HELP(
    new Program("latchkey")
      .description("Log in with OAuth 2.0 / OpenID Connect from the command line.")
      .version(options.version, "--version", "print the version"),
  );
  const act =
    (action: Action) =>
    (flags: Record<string, unknown>, command: Command): void =>
      run(() => action(flags, command));
  const commands: Record<string, () => Command> = {
    login: () =>
      commonCommand("login", "log in now, whatever is stored, and store the result")
        .addOption(envOption("--json", "print a JSON summary (no secrets) on stdout"))
        .action(act(actions.login)),
    token: () => tokenCommand().action(act(actions.token)),
    refresh: () =>
      commonCommand(
        "refresh",
        "refresh now with the stored refresh token; never starts a login",
      ).action(act(actions.refresh)),
    logout: () =>
      commonCommand("logout", "revoke the refresh token and delete what is stored; idempotent")
        .addOption(envOption("--no-revoke", "only delete the local credentials"))
        .action(act(actions.logout)),
    status: () =>
      commonCommand("status", "show the stored session (no secrets); exit 4 when logged out")
        .addOption(envOption("--json", "print JSON"))
        .action(act(actions.status)),
    demo: () =>
      commonCommand("demo", "run a real login against an embedded fake authorization server", false)
        .addOption(envOption("--json", "print the summary as JSON on stdout"))
        .action(act(actions.demo)),
    kubeconfig: () => kubeconfigCommand().action(act(actions.kubeconfig)),
  };
  // Only the command being run needs its twenty-odd options built (a few ms); the others are
  // there by name. Anything else (`--help`, `help`, a typo) builds them all.
  const invoked = argv[0] !== undefined && Object.hasOwn(commands, argv[0]) ? argv[0] : undefined;
  for (const [name, make] of Object.entries(commands)) {
    program.addCommand(
      HELP(invoked === undefined || invoked === name ? make() : new Program(name)),
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
