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
import { createCredentialLock, createTokenStore } from "@latchkey/keyring-store";
import {
  type CommonFlags,
  type ResolvedConfig,
  resolveConfig,
  type TokenFormat,
} from "./config.js";
import { ExitCode, exitCodeFor, hintFor } from "./exit-codes.js";
import { createOutput, type Output, printable } from "./output.js";
import { loadProfile } from "./profile.js";
import { type OptionSources, type OptionTable, quickParse } from "./quick-parse.js";
import { formatSummary, summarize } from "./summary.js";
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

/**
 * Commander turns a boolean flag on whenever its variable is set; `LATCHKEY_NO_BROWSER=0` or
 * `LATCHKEY_INSECURE_SKIP_TLS_VERIFY=false` must mean off, as a user would expect.
 */
function normalizeBooleanEnv(flags: CommonFlags, command: OptionSources): void {
  const target = flags as Record<string, unknown>;
  for (const option of command.options) {
    if (option.required || option.optional || option.envVar === undefined) continue;
    const key = option.attributeName();
    if (command.getOptionValueSource(key) !== "env") continue;
    const value = process.env[option.envVar] ?? "";
    if (/^(0|false|no|off)?$/i.test(value.trim())) target[key] = option.negate;
  }
}

/** Flags > LATCHKEY_* > config-file profile > defaults (CLI.md). */
async function applyProfile(
  flags: CommonFlags,
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  const name = flags.profile ?? "default";
  const profile = await loadProfile(ctx.env, name);
  const target = flags as Record<string, unknown>;
  for (const [key, value] of Object.entries(profile)) {
    const source = command.getOptionValueSource(key);
    if (source === "cli" || source === "env") continue;
    target[key] = value;
  }
  if (Object.keys(profile).length)
    ctx.out.debug(`config profile "${name}": ${Object.keys(profile).join(", ")}`);
}

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
  const storeOptions: Parameters<typeof createTokenStore>[0] = {
    kind: config.storeKind,
    env: ctx.env,
  };
  if (config.storeDir !== undefined) storeOptions.directory = config.storeDir;
  // A record already in the keyring proves it works: no write-then-delete probe on the hot path.
  storeOptions.keyring = { skipProbeIfStored: config.key };
  const { store, notice } = await createTokenStore(storeOptions);
  if (notice) ctx.out.info(notice);
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

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function formatToken(credentials: Credentials, format: TokenFormat, env: Context["env"]): string {
  switch (format) {
    case "raw":
      return credentials.accessToken;
    case "header":
      return `Authorization: Bearer ${credentials.accessToken}`;
    case "json": {
      const body: Record<string, unknown> = {
        access_token: credentials.accessToken,
        token_type: credentials.tokenType,
      };
      if (credentials.expiresAt !== undefined) {
        body.expires_at = rfc3339(credentials.expiresAt);
        body.expires_in = Math.max(0, Math.floor((credentials.expiresAt - Date.now()) / 1000));
      }
      if (credentials.scope !== undefined) body.scope = credentials.scope;
      if (credentials.idToken !== undefined) body.id_token = credentials.idToken;
      return JSON.stringify(body);
    }
    case "exec-credential": {
      let apiVersion = "client.authentication.k8s.io/v1";
      if (env.KUBERNETES_EXEC_INFO) {
        try {
          const info = JSON.parse(env.KUBERNETES_EXEC_INFO) as { apiVersion?: unknown };
          if (
            typeof info.apiVersion === "string" &&
            info.apiVersion.startsWith("client.authentication.k8s.io/")
          )
            apiVersion = info.apiVersion;
        } catch {
          throw new ConfigurationError(
            ErrorCode.CONFIG_INVALID,
            "KUBERNETES_EXEC_INFO is not valid JSON.",
          );
        }
      }
      const status: Record<string, string> = { token: credentials.accessToken };
      if (credentials.expiresAt !== undefined)
        status.expirationTimestamp = rfc3339(credentials.expiresAt);
      return JSON.stringify({ apiVersion, kind: "ExecCredential", status });
    }
    default: {
      const unreachable: never = format;
      return unreachable;
    }
  }
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

type TokenFlags = CommonFlags & { format: TokenFormat; minValidity: string; login?: boolean };

/** `latchkey token`, from commander's parse or the bin's quick one (`quick-parse.ts`). */
async function runToken(flags: TokenFlags, command: OptionSources, ctx: Context): Promise<void> {
  const minValiditySeconds = Number(flags.minValidity);
  if (!Number.isFinite(minValiditySeconds) || minValiditySeconds < 0) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "--min-validity must be a number of seconds.",
    );
  }
  const session = await prepare(flags, command, ctx);
  if (session.config.flow === "command") {
    const credentials = await (await import("./flows.js")).obtain(session, ctx);
    ctx.out.data(formatToken(credentials, flags.format, ctx.env));
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
  if (flags.login !== false)
    options.login = async () => (await import("./flows.js")).obtain(session, ctx);
  const result = await getAccessToken(options);
  ctx.out.debug(`token from ${result.source}`);
  if (result.refreshError) {
    const until = result.credentials.expiresAt;
    ctx.out.warn(
      `could not refresh (${result.refreshError.message.replace(/\.$/, "")}); using the stored token${until === undefined ? "" : `, valid until ${rfc3339(until)}`}.`,
    );
  }
  ctx.out.data(formatToken(result.credentials, flags.format, ctx.env));
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
        `Could not revoke the token at the server (${error.message}); it stays valid there until it expires. Local credentials are deleted anyway.`,
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
  flags: CommonFlags & { json?: boolean },
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  const session = await prepare(flags, command, ctx);
  const stored = await session.store.get(session.config.key);
  const summary = summaryOf(session, stored);
  ctx.out.data(flags.json ? JSON.stringify(summary) : formatSummary(summary));
  if (!stored) throw new LoginRequiredError(ErrorCode.LOGIN_REQUIRED, "Not logged in.");
}

/** `latchkey demo`: a real login against an embedded fake authorization server. */
async function runDemo(
  flags: CommonFlags & { json?: boolean },
  command: OptionSources,
  ctx: Context,
): Promise<void> {
  const { startFakeAuthorizationServer, followLoginRedirects } = await import("@latchkey/testing");
  const idp = await startFakeAuthorizationServer({});
  try {
    ctx.out.info(
      `Started a fake authorization server at ${idp.issuer} (it approves every login as "alice").`,
    );
    const demoFlags: CommonFlags = {
      ...flags,
      issuer: idp.issuer,
      clientId: flags.clientId ?? "latchkey",
      scope: flags.scope ?? ["openid", "profile"],
    };
    const session = await prepare(demoFlags, command, ctx, { storeKind: "memory" });
    let opener: Opener | undefined;
    const { browserUnavailableReason } = await import("./flows.js");
    const reason =
      session.config.browserCommand === undefined
        ? browserUnavailableReason({ env: ctx.env })
        : undefined;
    if (session.config.openBrowser && reason) {
      ctx.out.info(
        `No browser can be opened here (${reason}); completing the demo login headlessly.`,
      );
      opener = async (url) => {
        void followLoginRedirects(url).catch((error: unknown) =>
          ctx.out.warn(`headless login failed: ${String(error)}`),
        );
      };
    }
    const { interactive } = await import("./flows.js");
    const credentials = await interactive(session, ctx, "browser", opener);
    await session.store.set(session.config.key, credentials);
    const summary = summaryOf(session, await session.store.get(session.config.key));
    ctx.out.data(flags.json ? JSON.stringify(summary) : formatSummary(summary));
  } finally {
    await idp.close();
  }
}

/**
 * Runs the CLI and returns its exit code (CLI.md). Catches every error once, here: a known one
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
        demo: act(runDemo),
      },
      writeOut: (text) => environment.stdout.write(text),
      writeErr: (text) => environment.stderr.write(text),
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
