import { type Command, CommanderError, Option, Command as Program } from "commander";
import { topLevelHelp } from "./help.js";
import {
  addOptionGroups,
  commonCommand,
  envOption,
  kubeconfigCommand,
  type OptionGroup,
  tokenCommand,
} from "./options.js";
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
  /** The environment, for the top-level help (the config file's path and profiles). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A command with the option groups it uses, less the flags of `except` (options.ts). */
const own = (
  name: string,
  description: string,
  groups: readonly OptionGroup[],
  except: readonly string[],
): Command =>
  addOptionGroups(new Program(name).description(description), groups, {
    requireClient: true,
    except,
  });

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
  ).addHelpText("after", () => topLevelHelp(options.env ?? {}));
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
      own(
        "refresh",
        "refresh now with the stored refresh token; never starts a login",
        ["server", "client", "request", "tls", "store", "output"],
        ["--authorization-endpoint", "--device-authorization-endpoint", "--revocation-endpoint"],
      ).action(act(actions.refresh)),
    logout: () =>
      own(
        "logout",
        "revoke the refresh token and delete what is stored; idempotent",
        ["server", "client", "tls", "store", "output"],
        ["--authorization-endpoint", "--device-authorization-endpoint"],
      )
        .addOption(envOption("--no-revoke", "only delete the local credentials"))
        .action(act(actions.logout)),
    status: () =>
      own(
        "status",
        "show the stored session (no secrets); exit 4 when logged out",
        ["server", "client", "store", "output"],
        [
          "--authorization-endpoint",
          "--device-authorization-endpoint",
          "--revocation-endpoint",
          "--client-secret",
          "--client-secret-file",
        ],
      )
        .addOption(envOption("--json", "print JSON"))
        .addOption(
          new Option(
            "--all",
            "every stored credential of every store (no --issuer or --client-id needed)",
          ),
        )
        .action(act(actions.status)),
    // The demo is hermetic: its own presentation flags only, none read from the environment.
    demo: () =>
      new Program("demo")
        .description("run a real login against an embedded fake authorization server")
        .addOption(new Option("--json", "print the summary as JSON on stdout"))
        .addOption(
          new Option(
            "--browser-command <cmd>",
            "how to open a URL (no shell; the URL is the last argument)",
          ),
        )
        .addOption(new Option("--no-browser", "never open a browser; print the URL and wait"))
        .addOption(new Option("-v, --verbose", "show what is happening on stderr (never secrets)"))
        .addOption(new Option("-q, --quiet", "only errors and required prompts on stderr"))
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
