import type { Command } from "commander";
import type { OptionBuilders } from "../command.js";
import type { DemoFlags } from "../demo.js";
import type { OptionSources } from "../quick-parse.js";
import type { Context } from "../session.js";

/** The command's name. */
export const name = "demo";

/** The command's description. */
export const description = "run a real login against an embedded fake authorization server";

/**
 * The `demo` command and its options, without its action. The demo is hermetic: its own
 * presentation flags only, none read from the environment.
 */
export function options(define: OptionBuilders): Command {
  const { Command: Program, Option } = define;
  return new Program(name)
    .description(description)
    .addOption(new Option("--json", "print the summary as JSON on stdout"))
    .addOption(
      new Option(
        "--browser-command <cmd>",
        "how to open a URL (no shell; the URL is the last argument)",
      ),
    )
    .addOption(new Option("--no-browser", "never open a browser; print the URL and wait"))
    .addOption(new Option("-v, --verbose", "show what is happening on stderr (never secrets)"))
    .addOption(new Option("-q, --quiet", "only errors and required prompts on stderr"));
}

/** `latchkey demo` (demo.ts): loaded, with the fake server, only when it runs. */
export async function run(flags: DemoFlags, command: OptionSources, ctx: Context): Promise<void> {
  return (await import("../demo.js")).runDemo(flags, command, ctx);
}
