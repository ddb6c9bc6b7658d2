import type { ServerMetadata } from "@latchkey/core";
import {
  type CredentialLock,
  type Credentials,
  redactUrl,
  type TokenStore,
} from "@latchkey/core/store";
import { createCredentialLock } from "@latchkey/keyring-store";
import { applyProfile } from "./apply-flags.js";
import { type CommonFlags, type ResolvedConfig, resolveConfig } from "./config.js";
import { openStore } from "./open-store.js";
import type { Output } from "./output.js";
import type { OptionSources } from "./quick-parse.js";
import { summarize } from "./summary.js";
import { createTransport, needsAgent } from "./transport.js";

// What every command that talks to a server starts with: the settings resolved from flags,
// environment and profile, the store, the (lazily discovered) server and the credential lock.

/** @internal Where a command's output goes, what it reads, and what cancels it. */
export interface Context {
  out: Output;
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
  stdin?: NodeJS.ReadableStream;
}

/** @internal A command's resolved settings, its store and its server. */
export interface Session {
  config: ResolvedConfig;
  store: TokenStore;
  server: () => Promise<ServerMetadata>;
  /** Held around refresh and login so that processes sharing the store refresh once (S40). */
  lock: CredentialLock | undefined;
}

/** @internal How a login opens its URL: not at all, a command, or a function (the demo's). */
export type Opener = false | { command?: string } | ((url: string) => Promise<void>);

/** @internal Resolves the settings and opens the store: the session a command runs in. */
export async function prepare(
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
  const transportOptions = { env: ctx.env, caFile: config.caFile, insecure: config.insecure };
  const transport = await createTransport(transportOptions);
  if (transport) config.client.fetch = transport;
  if (needsAgent(transportOptions))
    ctx.out.debug(
      "HTTP through undici (proxy environment, --ca-file or --insecure-skip-tls-verify)",
    );
  const store = await openStore(
    { kind: config.storeKind, directory: config.storeDir, env: ctx.env, key: config.key },
    ctx.out,
  );
  ctx.out.debug(`store: ${store.kind}; profile: ${config.key.profile}; flow: ${config.flow}`);
  const server = lazyServer(config, ctx);
  const lockOptions: Parameters<typeof createCredentialLock>[0] = { env: ctx.env };
  if (config.storeDir !== undefined) lockOptions.directory = config.storeDir;
  const lock = store.kind === "memory" ? undefined : createCredentialLock(lockOptions);
  return { config, store, server, lock };
}

/**
 * @internal The server of these settings, discovered on first use only (a valid stored token needs
 * none) and once per command.
 */
export function lazyServer(config: ResolvedConfig, ctx: Context): () => Promise<ServerMetadata> {
  let discovered: Promise<ServerMetadata> | undefined;
  return () => {
    discovered ??= (async () => {
      const started = Date.now();
      // The protocol core's discovery, loaded only when a server is asked for.
      const { resolveServer } = await import("@latchkey/core");
      const metadata = await resolveServer(config.client, { signal: ctx.signal });
      ctx.out.debug(
        `metadata of ${redactUrl(metadata.issuer)} in ${Date.now() - started} ms; token endpoint ${redactUrl(metadata.token_endpoint ?? "(none)")}`,
      );
      return metadata;
    })();
    return discovered;
  };
}

/** @internal The summary (no secrets) of the session's credentials, as `login` and `status` print it. */
export function summaryOf(
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
