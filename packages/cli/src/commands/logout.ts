import { ErrorCode, LatchkeyError } from "@latchkey/core/store";
import type { Command } from "commander";
import type { OptionBuilders } from "../command.js";
import type { CommonFlags } from "../config.js";
import { printable } from "../output.js";
import type { OptionSources } from "../quick-parse.js";
import { type Context, prepare } from "../session.js";

/** The command's name. */
export const name = "logout";

/** The command's description. */
export const description = "revoke the refresh token and delete what is stored; idempotent";

/** The `logout` command and its options, without its action. */
export function options(define: OptionBuilders): Command {
  return define
    .ownCommand(
      name,
      description,
      ["server", "client", "tls", "store", "output"],
      ["--authorization-endpoint", "--device-authorization-endpoint"],
    )
    .addOption(define.envOption("--no-revoke", "only delete the local credentials"));
}

/** `latchkey logout`: revoke the refresh token and delete what is stored; idempotent. */
export async function run(
  flags: CommonFlags & { revoke?: boolean },
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  const session = await prepare(flags, command, ctx);
  const stored = await session.store.get(session.config.key).catch((error: unknown) => {
    // A corrupt record must still be deletable.
    if (error instanceof LatchkeyError && error.code === ErrorCode.STORE_CORRUPT) return undefined;
    throw error;
  });
  if (stored && flags.revoke !== false) {
    try {
      const { revokeCredentials } = await import("../flows.js");
      const outcome = await revokeCredentials({
        client: session.config.client,
        server: await session.server(),
        credentials: stored,
        signal: ctx.signal,
      });
      ctx.out.debug(
        outcome === "revoked"
          ? "token revoked at the server"
          : "the server has no revocation endpoint",
      );
    } catch (error) {
      if (!(error instanceof LatchkeyError) || error.code === ErrorCode.ABORTED) throw error;
      ctx.out.warn(
        `Could not revoke the token at the server (${printable(error.message)}); it stays valid there until it expires. Local credentials are deleted anyway.`,
      );
    }
  }
  await session.store.delete(session.config.key);
  ctx.out.info(
    stored
      ? `Logged out of ${new URL(session.config.key.issuer).host} (profile ${session.config.key.profile}).`
      : "Not logged in; nothing to do.",
  );
}
