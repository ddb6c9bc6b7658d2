import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import {
  type ClientOptions,
  ConfigurationError,
  type CredentialKey,
  ErrorCode,
} from "@latchkey/core/store";

/** The options every command takes (docs/cli.md), as commander parses them. */
export interface CommonFlags {
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  revocationEndpoint?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  scope?: string[];
  audience?: string;
  resource?: string[];
  redirectUri?: string;
  port?: string;
  authParam?: string[];
  tokenParam?: string[];
  refreshParam?: string[];
  copyAuthParamsToTokenRequest?: boolean;
  flow?: string;
  command?: string;
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
  browserCommand?: string;
  browser?: boolean;
  timeout?: string;
  profile?: string;
  store?: string;
  storeDir?: string;
  verbose?: boolean;
  quiet?: boolean;
}

/** The login flows of docs/cli.md. */
export const FLOWS = [
  "auto",
  "browser",
  "device",
  "paste",
  "client-credentials",
  "command",
] as const;
/** One of {@link FLOWS}. */
export type Flow = (typeof FLOWS)[number];

/** The configuration a command runs with, after flags, environment and defaults. */
export interface ResolvedConfig {
  client: ClientOptions;
  key: CredentialKey;
  redirect: { host: "127.0.0.1" | "::1" | "localhost"; port: number | number[]; path: string };
  timeoutMs: number;
  browserCommand: string | undefined;
  openBrowser: boolean;
  storeKind: "auto" | "keyring" | "file" | "memory";
  storeDir: string | undefined;
  flow: Flow;
  command: string | undefined;
  caFile: string | undefined;
  insecure: boolean;
}

function usage(message: string): ConfigurationError {
  return new ConfigurationError(ErrorCode.CONFIG_INVALID, message);
}

function parsePairs(
  values: string[] | undefined,
  flag: string,
): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const result: Record<string, string> = {};
  for (const value of values) {
    const i = value.indexOf("=");
    if (i <= 0) throw usage(`${flag} takes name=value (got "${value.slice(0, 40)}").`);
    result[value.slice(0, i)] = value.slice(i + 1);
  }
  return result;
}

function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    throw usage("--port takes numbers from 0 to 65535, comma-separated to try several in order.");
  }
  return Number(text);
}

function parseRedirect(flags: CommonFlags): ResolvedConfig["redirect"] {
  const text = flags.redirectUri ?? "http://127.0.0.1:0/callback";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage("--redirect-uri is not an absolute URL.");
  }
  const hosts = { "127.0.0.1": "127.0.0.1", "[::1]": "::1", localhost: "localhost" } as const;
  const host = hosts[url.hostname as keyof typeof hosts] as
    | ResolvedConfig["redirect"]["host"]
    | undefined;
  if (url.protocol !== "http:" || host === undefined) {
    throw usage(
      "--redirect-uri must be http://127.0.0.1:PORT/PATH, http://[::1]:PORT/PATH or http://localhost:PORT/PATH (RFC 8252 loopback).",
    );
  }
  if (url.search || url.hash || url.username || url.password || text.includes("#")) {
    throw usage("--redirect-uri must not have a query, fragment or user info.");
  }
  if (url.pathname === "/done") throw usage('--redirect-uri may not use the path "/done".');
  let port: number | number[] = url.port === "" ? 0 : Number(url.port);
  if (flags.port !== undefined) {
    const ports = flags.port.split(",").map((p) => parsePort(p.trim()));
    port = ports.length === 1 ? (ports[0] as number) : ports;
  }
  return { host, port, path: url.pathname };
}

const STORE_KINDS = ["auto", "keyring", "file", "memory"] as const;

/**
 * A path setting as the user meant it: a leading `~` or `~/` is the home directory, whatever
 * the source (a config file or a quoted variable gets no shell expansion). With `absolute`, a
 * path that is still relative is refused: credentials written under `./~/…` or wherever the
 * command happens to run (inside a git repository, say) would be a leak.
 */
export function expandPath(value: string, flag: string, absolute = false): string {
  const expanded = /^~(\/|$)/.test(value) ? join(homedir(), value.slice(1)) : value;
  if (absolute && !isAbsolute(expanded))
    throw usage(`${flag} must be an absolute path or start with ~/ (it is "${expanded}").`);
  return expanded;
}

/** Turns parsed flags into the configuration, or throws a usage error (exit 2). */
export async function resolveConfig(
  flags: CommonFlags,
  defaults: { storeKind?: ResolvedConfig["storeKind"] } = {},
): Promise<ResolvedConfig> {
  const clientId = flags.clientId;
  if (!clientId)
    throw usage("--client-id is required (or LATCHKEY_CLIENT_ID, or a config-file profile).");
  if (flags.issuer === undefined && flags.tokenEndpoint === undefined) {
    throw usage("Give --issuer (or --token-endpoint and --authorization-endpoint).");
  }
  let clientSecret = flags.clientSecret;
  if (flags.clientSecretFile !== undefined) {
    if (clientSecret !== undefined)
      throw usage("Give --client-secret or --client-secret-file, not both.");
    try {
      clientSecret = (
        await readFile(expandPath(flags.clientSecretFile, "--client-secret-file"), "utf8")
      ).trim();
    } catch (cause) {
      throw new ConfigurationError(
        ErrorCode.CONFIG_INVALID,
        `Cannot read --client-secret-file (${(cause as NodeJS.ErrnoException).code ?? "error"}).`,
        { cause },
      );
    }
  }
  const client: ClientOptions = { clientId };
  if (flags.issuer !== undefined) client.issuer = flags.issuer.replace(/\/+$/, "") || flags.issuer;
  if (flags.authorizationEndpoint !== undefined)
    client.authorizationEndpoint = flags.authorizationEndpoint;
  if (flags.tokenEndpoint !== undefined) client.tokenEndpoint = flags.tokenEndpoint;
  if (flags.deviceAuthorizationEndpoint !== undefined)
    client.deviceAuthorizationEndpoint = flags.deviceAuthorizationEndpoint;
  if (flags.revocationEndpoint !== undefined) client.revocationEndpoint = flags.revocationEndpoint;
  if (clientSecret !== undefined) client.clientSecret = clientSecret;
  if (flags.scope?.length) client.scopes = flags.scope;
  if (flags.audience !== undefined) client.audience = flags.audience;
  if (flags.resource?.length) client.resource = flags.resource;
  const authorizationParams = parsePairs(flags.authParam, "--auth-param");
  if (authorizationParams) client.authorizationParams = authorizationParams;
  const tokenParams = parsePairs(flags.tokenParam, "--token-param");
  if (tokenParams) client.tokenParams = tokenParams;
  const refreshParams = parsePairs(flags.refreshParam, "--refresh-param");
  if (refreshParams) client.refreshParams = refreshParams;
  if (flags.copyAuthParamsToTokenRequest) client.copyAuthorizationParamsToTokenRequest = true;

  let timeoutMs = 180_000;
  if (flags.timeout !== undefined) {
    const seconds = Number(flags.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw usage("--timeout must be a positive number of seconds.");
    timeoutMs = Math.round(seconds * 1000);
  }
  // Each HTTP request gets at most --timeout too (never more than 30 s): a server that
  // accepts the connection and never answers must not hang `token` under kubectl.
  client.requestTimeoutMs = Math.min(timeoutMs, 30_000);
  const storeKind = (flags.store ?? defaults.storeKind ?? "auto") as ResolvedConfig["storeKind"];
  if (!STORE_KINDS.includes(storeKind))
    throw usage(`--store must be one of ${STORE_KINDS.join(", ")}.`);
  const profile = flags.profile ?? "default";
  if (!/^[\w.-]{1,64}$/.test(profile))
    throw usage("--profile may use letters, digits, '.', '_' and '-' (at most 64).");

  const flow = (flags.flow ?? "auto") as Flow;
  if (!FLOWS.includes(flow)) throw usage(`--flow must be one of ${FLOWS.join(", ")}.`);
  if (flow === "command" && !flags.command) throw usage("--flow command needs --command.");
  if (flow === "client-credentials" && clientSecret === undefined) {
    throw usage(
      "--flow client-credentials needs a client secret (--client-secret, --client-secret-file or LATCHKEY_CLIENT_SECRET).",
    );
  }

  let issuerKey: string | undefined = client.issuer;
  if (issuerKey === undefined) {
    try {
      issuerKey = new URL(flags.tokenEndpoint as string).origin;
    } catch {
      throw usage("--token-endpoint is not an absolute URL.");
    }
  }
  return {
    client,
    key: { issuer: issuerKey, clientId, profile },
    redirect: parseRedirect(flags),
    timeoutMs,
    browserCommand: flags.browserCommand,
    openBrowser: flags.browser !== false,
    storeKind,
    storeDir:
      flags.storeDir === undefined ? undefined : expandPath(flags.storeDir, "--store-dir", true),
    flow,
    command: flags.command,
    caFile: flags.caFile === undefined ? undefined : expandPath(flags.caFile, "--ca-file"),
    insecure: flags.insecureSkipTlsVerify === true,
  };
}

/** The output formats of `latchkey token`. */
export const TOKEN_FORMATS = ["raw", "json", "header", "exec-credential"] as const;
/** One of {@link TOKEN_FORMATS}. */
export type TokenFormat = (typeof TOKEN_FORMATS)[number];
