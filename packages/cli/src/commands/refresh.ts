import { ErrorCode, getAccessToken, LoginRequiredError } from "@latchkey/core/store";
import type { Command } from "commander";
import type { OptionBuilders } from "../command.js";
import type { CommonFlags } from "../config.js";
import type { OptionSources } from "../quick-parse.js";
import { type Context, prepare } from "../session.js";
import { rfc3339 } from "../time.js";

/** The command's name. */
export const name = "refresh";

/** The command's description. */
export const description = "refresh now with the stored refresh token; never starts a login";

/** The `refresh` command and its options, without its action. */
export function options(define: OptionBuilders): Command {
  return define.ownCommand(
    name,
    description,
    ["server", "client", "request", "tls", "store", "output"],
    ["--authorization-endpoint", "--device-authorization-endpoint", "--revocation-endpoint"],
  );
}

/** `latchkey refresh`: refresh now with the stored refresh token; never starts a login. */
export async function run(flags: CommonFlags, command: OptionSources, ctx: Context): Promise<void> {
  const session = await prepare(flags, command, ctx);
  const stored = await session.store.get(session.config.key);
  if (!stored)
    throw new LoginRequiredError(ErrorCode.LOGIN_REQUIRED, "Not logged in: nothing to refresh.");
  if (!stored.refreshToken)
    throw new LoginRequiredError(
      ErrorCode.LOGIN_REQUIRED,
      "The stored session has no refresh token; log in again.",
    );
  const result = await getAccessToken({
    store: session.store,
    key: session.config.key,
    client: session.config.client,
    server: session.server,
    forceRefresh: true,
    signal: ctx.signal,
    ...(session.lock ? { lock: session.lock } : {}),
  });
  const expires =
    result.credentials.expiresAt === undefined
      ? ""
      : `; valid until ${rfc3339(result.credentials.expiresAt)}`;
  ctx.out.info(`Refreshed${expires}.`);
}
