import {
  ConfigurationError,
  ErrorCode,
  getAccessToken,
  LatchkeyError,
  LoginRequiredError,
} from "@latchkey/core/store";
import type { Command } from "commander";
import type { OptionBuilders } from "../command.js";
import { type CommonFlags, TOKEN_FORMATS, type TokenFormat } from "../config.js";
import { checkIdToken, withFreshIdToken } from "../id-token.js";
import type { OptionSources } from "../quick-parse.js";
import { type Context, prepare } from "../session.js";
import { rfc3339 } from "../time.js";
import { formatToken, readExecInfo } from "../token-format.js";

/** The command's name. */
export const name = "token";

/** The command's description. */
export const description = "print a valid access token: stored, refreshed, or from a new login";

/**
 * The `token` command and its options, without its action. `scripts/bundle.mjs` also builds it,
 * to give the bin the table of options it parses `latchkey token` with (`quick-parse.ts`).
 */
export function options(define: OptionBuilders): Command {
  return define
    .commonCommand(name, description)
    .addOption(
      define
        .envOption("--format <format>", "raw | json | header | exec-credential")
        .choices(TOKEN_FORMATS)
        .default("raw"),
    )
    .addOption(
      define
        .envOption(
          "--min-validity <seconds>",
          "refresh when the token expires within this many seconds",
        )
        .default("60"),
    )
    .addOption(define.envOption("--no-login", "fail with exit code 4 instead of starting a login"))
    .addOption(define.envOption("--id-token", "the ID token instead of the access token"));
}

/** The flags of `latchkey token`. */
export type TokenFlags = CommonFlags & {
  format: TokenFormat;
  minValidity: string;
  login?: boolean;
  idToken?: boolean;
};

/** `latchkey token`, from commander's parse or the bin's quick one (`quick-parse.ts`). */
export async function run(flags: TokenFlags, command: OptionSources, ctx: Context): Promise<void> {
  const minValiditySeconds = Number(flags.minValidity);
  if (!Number.isFinite(minValiditySeconds) || minValiditySeconds < 0) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "--min-validity must be a number of seconds.",
    );
  }
  // kubectl's `spec.interactive: false`: nobody can be asked anything, so no login (docs/cli.md).
  const exec = flags.format === "exec-credential" ? readExecInfo(ctx.env) : undefined;
  const idToken = flags.idToken === true;
  const format = { idToken, ...(exec ? { exec } : {}) };
  const session = await prepare(flags, command, ctx);
  if (session.config.flow === "command") {
    const credentials = await (await import("../flows.js")).obtain(session, ctx);
    ctx.out.data(formatToken(checkIdToken(credentials, idToken), flags.format, format));
    return;
  }
  const request: Parameters<typeof getAccessToken>[0] = {
    store: session.store,
    key: session.config.key,
    client: session.config.client,
    server: session.server,
    minValiditySeconds,
    signal: ctx.signal,
  };
  if (session.lock) request.lock = session.lock;
  // A login needs someone to answer it, unless the flow asks nobody (client credentials).
  const canLogIn = exec?.interactive !== false || session.config.flow === "client-credentials";
  if (flags.login !== false && canLogIn)
    request.login = async () => (await import("../flows.js")).obtain(session, ctx);
  let result: Awaited<ReturnType<typeof getAccessToken>>;
  try {
    result = await getAccessToken(request);
    if (idToken)
      result = await withFreshIdToken(result, request, minValiditySeconds, (text) =>
        ctx.out.warn(text),
      );
    checkIdToken(result.credentials, idToken);
  } catch (error) {
    // Without a login, a refused refresh means one is needed too: exit 4, with what to run.
    const needsLogin =
      error instanceof LoginRequiredError ||
      (error instanceof LatchkeyError && error.code === ErrorCode.INVALID_GRANT);
    if (canLogIn || !needsLogin) throw error;
    throw (await import("../kubeconfig.js")).nonInteractiveError(error, flags, command);
  }
  ctx.out.debug(`token from ${result.source}`);
  if (result.refreshError) {
    const until = result.credentials.expiresAt;
    ctx.out.warn(
      `could not refresh (${result.refreshError.message.replace(/\.$/, "")}); using the stored token${until === undefined ? "" : `, valid until ${rfc3339(until)}`}.`,
    );
  }
  ctx.out.data(formatToken(result.credentials, flags.format, format));
}
