import type { CommonFlags } from "./config.js";
import { loadProfile, profileNames } from "./profile.js";
import type { OptionSources } from "./quick-parse.js";
import type { ProfileContext } from "./unknown-profile.js";

// How parsed flags are completed before a command runs: boolean variables read as users mean
// them, then the config file's profile under the flags and the environment (docs/cli.md).

/**
 * Commander turns a boolean flag on whenever its variable is set; `LATCHKEY_NO_BROWSER=0` or
 * `LATCHKEY_INSECURE_SKIP_TLS_VERIFY=false` must mean off, as a user would expect.
 */
export function normalizeBooleanEnv(flags: CommonFlags, command: OptionSources): void {
  const target = flags as Record<string, unknown>;
  for (const option of command.options) {
    if (option.required || option.optional || option.envVar === undefined) continue;
    const key = option.attributeName();
    if (command.getOptionValueSource(key) !== "env") continue;
    const value = process.env[option.envVar] ?? "";
    if (/^(0|false|no|off)?$/i.test(value.trim())) target[key] = option.negate;
  }
}

/** Flags > LATCHKEY_* > config-file profile > defaults (docs/cli.md). */
export async function applyProfile(
  flags: CommonFlags,
  command: OptionSources,
  ctx: ProfileContext,
): Promise<void> {
  const target = flags as Record<string, unknown>;
  // A common flag this command does not use is accepted and dropped, from every source: a
  // `--flow` or `LATCHKEY_FLOW` means nothing to `status`, not even a validation error.
  for (const option of command.options) if (option.hidden) delete target[option.attributeName()];
  const name = flags.profile ?? "default";
  const profile = await loadProfile(ctx.env, name);
  const incomplete = !flags.clientId || (flags.issuer ?? flags.tokenEndpoint) === undefined;
  // An unknown profile is named (with the known ones), rather than "--client-id is required";
  // so is a missing "default" when the config file has other profiles.
  if (profile === undefined && incomplete && (name !== "default" || profileNames(ctx.env).length))
    throw await (await import("./unknown-profile.js")).unknownProfileError(name, flags, ctx);
  // Only the settings this command takes: a profile's `flow` means nothing to `status`.
  const takes = new Set(
    command.options.filter((option) => !option.hidden).map((option) => option.attributeName()),
  );
  for (const [key, value] of Object.entries(profile ?? {})) {
    const source = command.getOptionValueSource(key);
    if (source === "cli" || source === "env" || !takes.has(key)) continue;
    target[key] = value;
  }
  if (profile && Object.keys(profile).length)
    ctx.out.debug(`config profile "${name}": ${Object.keys(profile).join(", ")}`);
}
