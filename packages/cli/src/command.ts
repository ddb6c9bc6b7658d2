import type { Command } from "commander";
import type * as Definitions from "./options.js";
import type { OptionSources } from "./quick-parse.js";
import type { Context } from "./session.js";

/**
 * @internal What a command module (`src/commands/<name>.ts`) exports. The commander definition
 * is a function of the option builders (`options.ts`, given by the caller) so that a command
 * module loads no commander: `latchkey token`'s hot path loads `commands/token.ts` and nothing
 * of commander (quick-parse.ts), the program (program.ts) and the bundle script build the same
 * definition with commander.
 */
export interface CommandModule {
  /** The command's name, as typed after `latchkey`. */
  readonly name: string;
  /** One line for the help. */
  readonly description: string;
  /** The commander command with its options and help, without its action. */
  options(define: OptionBuilders): Command;
  /** Runs the command with commander's (or the quick parser's) values and their sources. */
  run(flags: never, command: OptionSources, ctx: Context): Promise<void>;
}

/** @internal The option builders (`options.ts`) a command's definition is made with. */
export type OptionBuilders = typeof Definitions;
