import { ConfigurationError, ErrorCode } from "@latchkey/core/store";
import type { CommonFlags } from "./config.js";
import type { Output } from "./output.js";
import { printable } from "./output.js";
import { configFilePath, profileNames } from "./profile.js";
import { type ListedCredentials, listStored } from "./status-all.js";

/** What {@link unknownProfileError} reads: the flags as they stand, the environment, the output. */
export interface ProfileContext {
  env: Readonly<Record<string, string | undefined>>;
  out: Output;
}

/** Every stored credential set of the flags' stores; none when they cannot say. */
async function storedEntries(
  flags: CommonFlags,
  ctx: ProfileContext,
): Promise<ListedCredentials[]> {
  try {
    const kind = (flags.store ?? "auto") as Parameters<typeof listStored>[0];
    return await listStored(kind, flags.storeDir, ctx);
  } catch {
    return [];
  }
}

/**
 * The error for `--profile NAME` when NAME is in no config file and the flags do not say what
 * to log in to (no client id, or no issuer): it names the profile and lists the known ones
 * (the config file's and the stored ones). A profile that exists only in the store (logged in
 * with flags) is not unknown: the error then says which flags it was logged in with.
 */
export async function unknownProfileError(
  name: string,
  flags: CommonFlags,
  ctx: ProfileContext,
): Promise<ConfigurationError> {
  const { path } = configFilePath(ctx.env);
  const shown = printable(JSON.stringify(name));
  const entries = await storedEntries(flags, ctx);
  const mine = entries.filter((entry) => entry.key.profile === name);
  if (mine.length > 0) {
    const sessions = mine
      .map(({ key }) => `--issuer ${printable(key.issuer)} --client-id ${printable(key.clientId)}`)
      .join("; or ");
    return new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      `Profile ${shown} is not in the config file ${path}; it was logged in with ${sessions}. Give those flags too, or add the profile to the config file.`,
    );
  }
  const configured = profileNames(ctx.env);
  const stored = [...new Set(entries.map((entry) => entry.key.profile))]
    .filter((profile) => !configured.includes(profile))
    .sort();
  const known = [
    configured.length ? `${configured.map(printable).join(", ")} (config file)` : "",
    stored.length ? `${stored.map(printable).join(", ")} (stored)` : "",
  ].filter(Boolean);
  const what =
    name === "default"
      ? `No --issuer and --client-id, and the config file ${path} has no profile "default" (nothing is stored under it either).`
      : `Unknown profile ${shown}: it is not in the config file ${path} and nothing is stored under it.`;
  return new ConfigurationError(
    ErrorCode.CONFIG_INVALID,
    `${what} ${
      known.length
        ? `Known profiles: ${known.join("; ")}; choose one with --profile NAME.`
        : "No profile is known yet: log in with --issuer and --client-id to create it."
    }`,
  );
}
