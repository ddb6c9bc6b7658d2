import { ConfigurationError, ErrorCode } from "@latchkey/core/store";
import type { Command } from "commander";
import type { OptionBuilders } from "../command.js";
import type { CommonFlags } from "../config.js";
import { printable } from "../output.js";
import type { OptionSources } from "../quick-parse.js";
import { type Context, prepare, summaryOf } from "../session.js";

/** The command's name. */
export const name = "login";

/** The command's description. */
export const description = "log in now, whatever is stored, and store the result";

/** The `login` command and its options, without its action. */
export function options(define: OptionBuilders): Command {
  return define
    .commonCommand(name, description)
    .addOption(define.envOption("--json", "print a JSON summary (no secrets) on stdout"));
}

/** `latchkey login`: log in now, whatever is stored, and store the result. */
export async function run(
  flags: CommonFlags & { json?: boolean },
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  const session = await prepare(flags, command, ctx);
  if (session.config.flow === "command") {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "--flow command has nothing to log in to; use `latchkey token`.",
    );
  }
  const credentials = await (await import("../flows.js")).obtain(session, ctx);
  await session.store.set(session.config.key, credentials);
  const summary = summaryOf(session, credentials);
  ctx.out.info(
    `Logged in to ${new URL(session.config.key.issuer).host}${summary.subject ? ` as ${printable(summary.subject)}` : ""} (profile ${session.config.key.profile}, ${session.store.kind} store).`,
  );
  if (flags.json) ctx.out.data(JSON.stringify(summary));
}
