import { ErrorCode, LoginRequiredError } from "@latchkey/core/store";
import type { Command } from "commander";
import type { OptionBuilders } from "../command.js";
import type { CommonFlags } from "../config.js";
import type { OptionSources } from "../quick-parse.js";
import { type Context, prepare, summaryOf } from "../session.js";
import { formatSummary } from "../summary.js";

/** The command's name. */
export const name = "status";

/** The command's description. */
export const description = "show the stored session (no secrets); exit 4 when logged out";

/** The `status` command and its options, without its action. */
export function options(define: OptionBuilders): Command {
  return define
    .ownCommand(
      name,
      description,
      ["server", "client", "store", "output"],
      [
        "--authorization-endpoint",
        "--device-authorization-endpoint",
        "--revocation-endpoint",
        "--client-secret",
        "--client-secret-file",
      ],
    )
    .addOption(define.envOption("--json", "print JSON"))
    .addOption(
      new define.Option(
        "--all",
        "every stored credential of every store (no --issuer or --client-id needed)",
      ),
    );
}

/** `latchkey status`: the stored session, without secrets; exit 4 when logged out. */
export async function run(
  flags: CommonFlags & { json?: boolean; all?: boolean },
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  if (flags.all) return (await import("../status-all.js")).runStatusAll(flags, ctx);
  const session = await prepare(flags, command, ctx);
  const stored = await session.store.get(session.config.key);
  const summary = summaryOf(session, stored);
  ctx.out.data(flags.json ? JSON.stringify(summary) : formatSummary(summary));
  if (!stored) throw new LoginRequiredError(ErrorCode.LOGIN_REQUIRED, "Not logged in.");
}
