import { readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import {
  type Credentials,
  ConfigurationError,
  ErrorCode,
  getAccessToken,
  LatchkeyError,
  redactUrl,
  resolveServer,
  type TokenStore,
} from "@latchkey/core";
import { createTokenStore } from "@latchkey/keyring-store";
import {
  type BrowserLoginEvent,
  browserUnavailableReason,
  loginWithBrowser,
} from "@latchkey/node-server";
import { Command, CommanderError, Option } from "commander";
import { type CommonFlags, commonCommand, type ResolvedConfig, resolveConfig } from "./config.js";
import { ExitCode, exitCodeFor, hintFor } from "./exit-codes.js";
import { createOutput, type Output } from "./output.js";
import { formatSummary, summarize } from "./summary.js";

/** What the CLI runs against: injectable for tests, `process` by default. */
export interface CliEnvironment {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  /** Cancels whatever is running (Ctrl-C). */
  signal?: AbortSignal;
}

interface Context {
  out: Output;
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
}

const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

const TOKEN_FORMATS = ["raw", "json", "header", "exec-credential"] as const;
type TokenFormat = (typeof TOKEN_FORMATS)[number];

async function openStore(config: ResolvedConfig, ctx: Context): Promise<TokenStore> {
  const options: Parameters<typeof createTokenStore>[0] = { kind: config.storeKind, env: ctx.env };
  if (config.storeDir !== undefined) options.directory = config.storeDir;
  const { store, notice } = await createTokenStore(options);
  if (notice) ctx.out.info(notice);
  ctx.out.debug(`store: ${store.kind}`);
  return store;
}

function loginEvents(
  ctx: Context,
  host: string,
  headless: boolean,
): (event: BrowserLoginEvent) => void {
  return (event) => {
    switch (event.type) {
      case "listening":
        ctx.out.debug(`callback server listening on ${event.redirectUri}`);
        return;
      case "authorization-url":
        ctx.out.prompt(
          headless
            ? `Following the login URL headlessly for ${host}:`
            : event.opening
              ? `Opening a browser to log in to ${host}. If none opens, visit:`
              : `To log in to ${host}, open this URL in a browser on this machine:`,
        );
        ctx.out.prompt(`  ${event.url}`);
        return;
      case "browser-opened":
        ctx.out.debug("browser started; waiting for the callback");
        return;
      case "browser-failed":
        ctx.out.warn(`${event.error.message} Open the URL above by hand.`);
        return;
      case "callback-received":
        ctx.out.debug("callback received; exchanging the code");
        return;
      case "token-exchanged":
        ctx.out.debug("token endpoint answered");
        return;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  };
}

type Opener = false | { command?: string } | ((url: string) => Promise<void>);

async function interactiveLogin(
  config: ResolvedConfig,
  ctx: Context,
  opener?: Opener,
): Promise<Credentials> {
  const started = Date.now();
  const server = await resolveServer(config.client, { signal: ctx.signal });
  ctx.out.debug(`discovered ${redactUrl(server.issuer)} in ${Date.now() - started} ms`);
  ctx.out.debug(
    `authorization endpoint ${redactUrl(server.authorization_endpoint ?? "(none)")}, token endpoint ${redactUrl(server.token_endpoint ?? "(none)")}`,
  );
  let browser: Opener;
  if (opener !== undefined) {
    browser = opener;
  } else if (!config.openBrowser) {
    browser = false;
  } else if (config.browserCommand !== undefined) {
    browser = { command: config.browserCommand };
  } else {
    const reason = browserUnavailableReason({ env: ctx.env });
    if (reason) ctx.out.info(`No browser can be opened here: ${reason}.`);
    browser = reason ? false : {};
  }
  const host = new URL(server.issuer).host;
  const credentials = await loginWithBrowser({
    client: config.client,
    server,
    callback: config.redirect,
    timeoutMs: config.timeoutMs,
    signal: ctx.signal,
    browser,
    endpointName: host,
    onEvent: loginEvents(ctx, host, typeof browser === "function"),
  });
  ctx.out.debug(`login completed in ${Date.now() - started} ms`);
  return credentials;
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
          ) {
            apiVersion = info.apiVersion;
          }
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

function buildProgram(
  ctx: Context,
  run: (action: () => Promise<void>) => void,
  setOut: (flags: CommonFlags) => void,
): Command {
  const program = new Command("latchkey")
    .description("Log in with OAuth 2.0 / OpenID Connect from the command line.")
    .version(VERSION, "--version", "print the version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  const login = commonCommand("login", "log in now, whatever is stored, and store the result")
    .addOption(new Option("--json", "print a JSON summary (no secrets) on stdout"))
    .action((flags: CommonFlags & { json?: boolean }) =>
      run(async () => {
        setOut(flags);
        const config = await resolveConfig(flags);
        const store = await openStore(config, ctx);
        const credentials = await interactiveLogin(config, ctx);
        await store.set(config.key, credentials);
        const summary = summarize(credentials, {
          profile: config.key.profile,
          issuer: config.key.issuer,
          clientId: config.key.clientId,
          store: store.kind,
          now: Date.now(),
        });
        ctx.out.info(
          `Logged in to ${new URL(config.key.issuer).host}${summary.subject ? ` as ${summary.subject}` : ""} (profile ${config.key.profile}, ${store.kind} store).`,
        );
        if (flags.json) ctx.out.data(JSON.stringify(summary));
      }),
    );

  const token = commonCommand(
    "token",
    "print a valid access token: stored, refreshed, or from a new login",
  )
    .addOption(
      new Option("--format <format>", "raw | json | header | exec-credential")
        .choices(TOKEN_FORMATS)
        .default("raw"),
    )
    .addOption(
      new Option(
        "--min-validity <seconds>",
        "refresh when the token expires within this many seconds",
      ).default("60"),
    )
    .addOption(new Option("--no-login", "fail with exit code 4 instead of starting a login"))
    .action((flags: CommonFlags & { format: TokenFormat; minValidity: string; login?: boolean }) =>
      run(async () => {
        setOut(flags);
        const minValiditySeconds = Number(flags.minValidity);
        if (!Number.isFinite(minValiditySeconds) || minValiditySeconds < 0) {
          throw new ConfigurationError(
            ErrorCode.CONFIG_INVALID,
            "--min-validity must be a number of seconds.",
          );
        }
        const config = await resolveConfig(flags);
        const store = await openStore(config, ctx);
        const options: Parameters<typeof getAccessToken>[0] = {
          store,
          key: config.key,
          client: config.client,
          server: () => resolveServer(config.client, { signal: ctx.signal }),
          minValiditySeconds,
          signal: ctx.signal,
        };
        if (flags.login !== false) options.login = () => interactiveLogin(config, ctx);
        const result = await getAccessToken(options);
        ctx.out.debug(`token from ${result.source}`);
        ctx.out.data(formatToken(result.credentials, flags.format, ctx.env));
      }),
    );

  const demo = commonCommand(
    "demo",
    "run a real login against an embedded fake authorization server",
    false,
  )
    .addOption(new Option("--json", "print the summary as JSON on stdout"))
    .action((flags: CommonFlags & { json?: boolean }) =>
      run(async () => {
        setOut(flags);
        const { startFakeAuthorizationServer, followLoginRedirects } = await import(
          "@latchkey/testing"
        );
        const idp = await startFakeAuthorizationServer({});
        try {
          ctx.out.info(
            `Started a fake authorization server at ${idp.issuer} (it approves every login as "alice").`,
          );
          const config = await resolveConfig(
            {
              ...flags,
              issuer: idp.issuer,
              clientId: flags.clientId ?? "latchkey",
              scope: flags.scope ?? ["openid", "profile"],
            },
            { storeKind: "memory" },
          );
          const store = await openStore(config, ctx);
          let opener: Opener | undefined;
          const reason =
            config.browserCommand === undefined
              ? browserUnavailableReason({ env: ctx.env })
              : undefined;
          if (config.openBrowser && reason) {
            ctx.out.info(
              `No browser can be opened here (${reason}); completing the demo login headlessly.`,
            );
            opener = async (url) => {
              void followLoginRedirects(url).catch((error: unknown) =>
                ctx.out.warn(`headless login failed: ${String(error)}`),
              );
            };
          }
          const credentials = await interactiveLogin(config, ctx, opener);
          await store.set(config.key, credentials);
          const summary = summarize(await store.get(config.key), {
            profile: config.key.profile,
            issuer: config.key.issuer,
            clientId: config.key.clientId,
            store: store.kind,
            now: Date.now(),
          });
          ctx.out.data(flags.json ? JSON.stringify(summary) : formatSummary(summary));
        } finally {
          await idp.close();
        }
      }),
    );

  for (const command of [login, token, demo]) {
    command.exitOverride().showHelpAfterError("(run with --help for usage)");
    program.addCommand(command);
  }
  return program;
}

/**
 * Runs the CLI and returns its exit code (CLI.md). Catches every error once, here: a known one
 * becomes one line and a hint on stderr; an unexpected one a short report (the stack with `-v`).
 */
export async function runCli(environment: CliEnvironment): Promise<number> {
  let out = createOutput({
    stdout: environment.stdout,
    stderr: environment.stderr,
    env: environment.env,
    verbose: false,
    quiet: false,
  });
  const signal = environment.signal ?? new AbortController().signal;
  const ctx: Context = { out, env: environment.env, signal };
  let pending: Promise<void> | undefined;
  const program = buildProgram(
    ctx,
    (action) => {
      pending = action();
    },
    (flags) => {
      out = createOutput({
        stdout: environment.stdout,
        stderr: environment.stderr,
        env: environment.env,
        verbose: flags.verbose === true,
        quiet: flags.quiet === true && flags.verbose !== true,
      });
      ctx.out = out;
    },
  );
  const streams = {
    writeOut: (text: string) => environment.stdout.write(text),
    writeErr: (text: string) => environment.stderr.write(text),
  };
  program.configureOutput(streams);
  for (const command of program.commands) command.configureOutput(streams);
  try {
    await program.parseAsync([...environment.argv], { from: "user" });
    if (pending) await pending;
    else if (environment.argv.length === 0) {
      program.outputHelp({ error: true });
      return ExitCode.USAGE;
    }
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return ExitCode.OK;
      return ExitCode.USAGE;
    }
    const code = exitCodeFor(error);
    if (error instanceof LatchkeyError) {
      out.error(error.message);
      const hint = hintFor(error);
      if (hint && code !== ExitCode.INTERRUPTED) out.info(`hint: ${hint}`);
      if (out.verbose) out.debug(`error code ${error.code}`);
    } else {
      out.error(
        `unexpected internal error: ${error instanceof Error ? error.name : "unknown"}. Run with -v for details and report it.`,
      );
      if (out.verbose && error instanceof Error && error.stack) out.debug(error.stack);
    }
    return code;
  }
}
