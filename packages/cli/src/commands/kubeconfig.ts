import type { Command } from "commander";
import { applyProfile } from "../apply-flags.js";
import type { OptionBuilders } from "../command.js";
import { resolveConfig } from "../config.js";
import type { KubeconfigFlags } from "../kubeconfig.js";
import type { OptionSources } from "../quick-parse.js";
import type { Context } from "../session.js";

/** The command's name. */
export const name = "kubeconfig";

/** The command's description. */
export const description =
  "print a kubeconfig whose user runs `latchkey token --format exec-credential`";

/** The `kubeconfig` command and its options, without its action. */
export function options(define: OptionBuilders): Command {
  const { Option, envOption } = define;
  return define
    .commonCommand(name, description)
    .addOption(new Option("--server <url>", "also a cluster with this API server, and a context"))
    .addOption(
      new Option("--cluster <name>", "the cluster's name (an existing one without --server)"),
    )
    .addOption(
      new Option("--certificate-authority <file>", "the cluster's CA (PEM), written inline"),
    )
    .addOption(new Option("--user <name>", 'the user entry\'s name (default "latchkey-PROFILE")'))
    .addOption(new Option("--context <name>", 'the context\'s name (default "USER@CLUSTER")'))
    .addOption(
      new Option(
        "--exec-command <path>",
        'the latchkey kubectl runs (default "latchkey", on PATH)',
      ),
    )
    .addOption(envOption("--id-token", "kubectl sends the ID token instead of the access token"))
    .addOption(envOption("--min-validity <seconds>", "passed to `latchkey token`"));
}

/** `latchkey kubeconfig`: a kubeconfig whose user runs `latchkey token --format exec-credential`. */
export async function run(
  flags: KubeconfigFlags,
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  await applyProfile(flags, command, ctx);
  await resolveConfig(flags); // what `token` would refuse is refused now, not under kubectl
  ctx.out.data((await import("../kubeconfig.js")).kubeconfig(flags, command, ctx));
}
