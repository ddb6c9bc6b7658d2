import { readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import type { ServerMetadata } from "@latchkey/core";
import {
  ConfigurationError,
  type CredentialLock,
  type Credentials,
  ErrorCode,
  getAccessToken,
  LatchkeyError,
  LoginRequiredError,
  redactUrl,
  type TokenStore,
} from "@latchkey/core/store";
import { createCredentialLock } from "@latchkey/keyring-store";
import { applyProfile, normalizeBooleanEnv } from "./apply-flags.js";
import {
  type CommonFlags,
  type ResolvedConfig,
  resolveConfig,
  type TokenFormat,
} from "./config.js";
import type { DemoFlags } from "./demo.js";
import { ExitCode, exitCodeFor, hintFor } from "./exit-codes.js";
import { checkIdToken, withFreshIdToken } from "./id-token.js";
import type { KubeconfigFlags } from "./kubeconfig.js";
import { openStore } from "./open-store.js";
import { createOutput, type Output, printable } from "./output.js";
import { type OptionSources, type OptionTable, quickParse } from "./quick-parse.js";
import { formatSummary, summarize } from "./summary.js";
import { formatToken, readExecInfo, rfc3339 } from "./token-format.js";
import { createTransport } from "./transport.js";

/** What the CLI runs against: injectable for tests, `process` by default. */
export interface CliEnvironment {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Where data goes; a `Writable`, or anything with its `write(text)`. */
  stdout: Pick<Writable, "write"> | { write(text: string): unknown };
  stderr: Writable & { isTTY?: boolean };
  /** Cancels whatever is running (Ctrl-C). */
  signal?: AbortSignal;
  /** Where a pasted redirect address is read from (`--flow paste`). */
  stdin?: NodeJS.ReadableStream;
}

/** @internal */
export interface Context {
  out: Output;
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
  stdin?: NodeJS.ReadableStream;
}

/** @internal */
export interface Session {
  config: ResolvedConfig;
  store: TokenStore;
  server: () => Promise<ServerMetadata>;
  /** Held around refresh and login so that processes sharing the store refresh once (S40). */
  lock: CredentialLock | undefined;
}

declare const __LATCHKEY_VERSION__: string | undefined;
declare const __LATCHKEY_TOKEN_OPTIONS__: OptionTable | undefined;

// The bundle (scripts/bundle.mjs) inlines the table of `token`'s options, taken from commander.
const QUICK_TOKEN_OPTIONS: OptionTable | undefined =
  typeof __LATCHKEY_TOKEN_OPTIONS__ === "undefined" ? undefined : __LATCHKEY_TOKEN_OPTIONS__;

// The bundle (scripts/bundle.mjs) inlines the version; unbundled, it is read from package.json.
const VERSION: string =
  typeof __LATCHKEY_VERSION__ === "string"
    ? __LATCHKEY_VERSION__
    : (
        JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
          version: string;
        }
      ).version;

/** @internal */
export type Opener = false | { command?: string } | ((url: string) => Promise<void>);

async function prepare(
  flags: CommonFlags,
  command: OptionSources,
  ctx: Context,
  defaults: Parameters<typeof resolveConfig>[1] = {},
): Promise<Session> {
  await applyProfile(flags, command, ctx);
  const config = await resolveConfig(flags, defaults);
  if (config.insecure)
    ctx.out.warn(
      "TLS certificates are not verified (--insecure-skip-tls-verify): anyone on the network can read your tokens.",
    );
  const transport = await createTransport({
    env: ctx.env,
    caFile: config.caFile,
    insecure: config.insecure,
  });
  if (transport) {
    config.client.fetch = transport;
    ctx.out.debug(
      "HTTP through undici (proxy environment, --ca-file or --insecure-skip-tls-verify)",
    );
  }
  const store = await openStore(
    { kind: config.storeKind, directory: config.storeDir, env: ctx.env, key: config.key },
    ctx.out,
  );
  ctx.out.debug(`store: ${store.kind}; profile: ${config.key.profile}; flow: ${config.flow}`);
  let discovered: Promise<ServerMetadata> | undefined;
  const server = (): Promise<ServerMetadata> => {
    discovered ??= (async () => {
      const started = Date.now();
      const { resolveServer } = await import("./flows.js");
      const metadata = await resolveServer(config.client, { signal: ctx.signal });
      ctx.out.debug(
        `metadata of ${redactUrl(metadata.issuer)} in ${Date.now() - started} ms; token endpoint ${redactUrl(metadata.token_endpoint ?? "(none)")}`,
      );
      return metadata;
    })();
    return discovered;
  };
  const lockOptions: Parameters<typeof createCredentialLock>[0] = { env: ctx.env };
  if (config.storeDir !== undefined) lockOptions.directory = config.storeDir;
  const lock = store.kind === "memory" ? undefined : createCredentialLock(lockOptions);
  return { config, store, server, lock };
}

function summaryOf(
  session: Session,
  credentials: Credentials | undefined,
): ReturnType<typeof summarize> {
  const { key } = session.config;
  return summarize(credentials, {
    profile: key.profile,
    issuer: key.issuer,
    clientId: key.clientId,
    store: session.store.kind,
    now: Date.now(),
  });
}

type TokenFlags = CommonFlags & {
  format: TokenFormat;
  minValidity: string;
  login?: boolean;
  idToken?: boolean;
};

/** `latchkey token`, from commander's parse or the bin's quick one (`quick-parse.ts`). */
async function runToken(flags: TokenFlags, command: OptionSources, ctx: Context): Promise<void> {
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
    const credentials = await (await import("./flows.js")).obtain(session, ctx);
    ctx.out.data(formatToken(checkIdToken(credentials, idToken), flags.format, format));
    return;
  }
  const options: Parameters<typeof getAccessToken>[0] = {
    store: session.store,
    key: session.config.key,
    client: session.config.client,
    server: session.server,
    minValiditySeconds,
    signal: ctx.signal,
  };
  if (session.lock) options.lock = session.lock;
  // A login needs someone to answer it, unless the flow asks nobody (client credentials).
  const canLogIn = exec?.interactive !== false || session.config.flow === "client-credentials";
  if (flags.login !== false && canLogIn)
    options.login = async () => (await import("./flows.js")).obtain(session, ctx);
  let result: Awaited<ReturnType<typeof getAccessToken>>;
  try {
    result = await getAccessToken(options);
    if (idToken)
      result = await withFreshIdToken(result, options, minValiditySeconds, (text) =>
        ctx.out.warn(text),
      );
    checkIdToken(result.credentials, idToken);
  } catch (error) {
    // Without a login, a refused refresh means one is needed too: exit 4, with what to run.
    const needsLogin =
      error instanceof LoginRequiredError ||
      (error instanceof LatchkeyError && error.code === ErrorCode.INVALID_GRANT);
    if (canLogIn || !needsLogin) throw error;
    throw (await import("./kubeconfig.js")).nonInteractiveError(error, flags, command);
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

/** `latchkey kubeconfig`: a kubeconfig whose user runs `latchkey token --format exec-credential`. */
async function runKubeconfig(
  flags: KubeconfigFlags,
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  await applyProfile(flags, command, ctx);
  await resolveConfig(flags); // what `token` would refuse is refused now, not under kubectl
  ctx.out.data((await import("./kubeconfig.js")).kubeconfig(flags, command, ctx));
}

/** `latchkey login`: log in now, whatever is stored, and store the result. */
async function runLogin(
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
  const credentials = await (await import("./flows.js")).obtain(session, ctx);
  await session.store.set(session.config.key, credentials);
  const summary = summaryOf(session, credentials);
  ctx.out.info(
    `Logged in to ${new URL(session.config.key.issuer).host}${summary.subject ? ` as ${printable(summary.subject)}` : ""} (profile ${session.config.key.profile}, ${session.store.kind} store).`,
  );
  if (flags.json) ctx.out.data(JSON.stringify(summary));
}

/** `latchkey refresh`: refresh now with the stored refresh token; never starts a login. */
async function runRefresh(flags: CommonFlags, command: OptionSources, ctx: Context): Promise<void> {
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

/** `latchkey logout`: revoke the refresh token and delete what is stored; idempotent. */
async function runLogout(
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
      const { revokeCredentials } = await import("./flows.js");
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

/** `latchkey status`: the stored session, without secrets; exit 4 when logged out. */
async function runStatus(
  flags: CommonFlags & { json?: boolean; all?: boolean },
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  if (flags.all) return (await import("./status-all.js")).runStatusAll(flags, ctx);
  const session = await prepare(flags, command, ctx);
  const stored = await session.store.get(session.config.key);
  const summary = summaryOf(session, stored);
  ctx.out.data(flags.json ? JSON.stringify(summary) : formatSummary(summary));
  if (!stored) throw new LoginRequiredError(ErrorCode.LOGIN_REQUIRED, "Not logged in.");
}

/**
 * Runs the CLI and returns its exit code (docs/cli.md). Catches every error once, here: a known one
 * becomes one line and a hint on stderr; an unexpected one a short report (the stack with `-v`).
 */
export async function runCli(environment: CliEnvironment): Promise<number> {
  // stderr and stdin are read from the environment only when used: `process.stderr` and
  // `process.stdin` cost a cold start several ms to create, and `latchkey token` uses neither.
  const make = (verbose: boolean, quiet: boolean): Output =>
    createOutput({
      stdout: environment.stdout,
      stderr: () => environment.stderr,
      env: environment.env,
      verbose,
      quiet,
    });
  const ctx: Context = {
    out: make(false, false),
    env: environment.env,
    signal: environment.signal ?? new AbortController().signal,
  };
  if ("stdin" in environment) {
    Object.defineProperty(ctx, "stdin", { get: () => environment.stdin, enumerable: true });
  }
  // Every command starts the same way: its output set up from -v/-q (and the environment).
  const act =
    <F>(run: (flags: F, command: OptionSources, ctx: Context) => Promise<void>) =>
    (flags: Record<string, unknown>, command: OptionSources): Promise<void> => {
      normalizeBooleanEnv(flags as CommonFlags, command);
      ctx.out = make(flags.verbose === true, flags.quiet === true && flags.verbose !== true);
      return run(flags as F, command, ctx);
    };
  // The bin's quick way through `latchkey token` (quick-parse.ts); commander for all else.
  const quick =
    QUICK_TOKEN_OPTIONS !== undefined && environment.argv[0] === "token"
      ? quickParse(environment.argv.slice(1), environment.env, QUICK_TOKEN_OPTIONS)
      : undefined;
  try {
    if (quick) {
      await act(runToken)(quick.flags, quick.command);
      return ExitCode.OK;
    }
    const { runProgram } = await import("./program.js");
    const outcome = await runProgram({
      argv: environment.argv,
      version: VERSION,
      // Commander has parsed the flags with the very options these functions read.
      actions: {
        login: act(runLogin),
        token: act(runToken),
        refresh: act(runRefresh),
        logout: act(runLogout),
        status: act(runStatus),
        demo: act<DemoFlags>(async (flags, command, context) =>
          (await import("./demo.js")).runDemo(flags, command, context),
        ),
        kubeconfig: act(runKubeconfig),
      },
      writeOut: (text) => environment.stdout.write(text),
      writeErr: (text) => environment.stderr.write(text),
      env: environment.env,
    });
    return outcome === "usage" ? ExitCode.USAGE : ExitCode.OK;
  } catch (error) {
    const code = exitCodeFor(error);
    const out = ctx.out;
    if (error instanceof LatchkeyError) {
      out.error(printable(error.message));
      const hint = hintFor(error);
      if (hint && code !== ExitCode.INTERRUPTED) out.info(`hint: ${hint}`);
      out.debug(`error code ${error.code}`);
    } else {
      out.error(
        `unexpected internal error: ${error instanceof Error ? error.name : "unknown"}. Run with -v for details and report it.`,
      );
      if (out.verbose && error instanceof Error && error.stack) out.debug(error.stack);
    }
    return code;
  }
}
