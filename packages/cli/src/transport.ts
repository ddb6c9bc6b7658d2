import { readFile } from "node:fs/promises";
import { ConfigurationError, ErrorCode, type FetchLike } from "@latchkey/core/store";

/** Options of {@link createTransport}. */
export interface TransportOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Extra CA certificates (PEM), trusted in addition to the system's. */
  caFile?: string | undefined;
  /** Skip TLS verification (explicit opt-in, warned about). */
  insecure?: boolean | undefined;
}

const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

/** Whether the options need undici's own agent (a proxy, an extra CA or skip-verify). */
export function needsAgent(options: TransportOptions): boolean {
  const proxied = PROXY_VARIABLES.some((name) => options.env[name]);
  return proxied || options.caFile !== undefined || options.insecure === true;
}

/**
 * Node 20 only: V8 compiles WebAssembly with its baseline compiler only (`--liftoff-only`), set
 * before the first request. `fetch` (undici, Node's own or the package) parses HTTP with a
 * WebAssembly build of llhttp, compiled on the first request; Node 20's V8 then recompiles it with
 * TurboFan on background threads, which costs a `latchkey token` that refreshes about 29 MiB of
 * peak RSS (85-88 instead of 56-59 MiB; `node -e 0` is 40) and a wait before the process can
 * exit. Liftoff code parses the few KiB of an OAuth response just as well. Not on Node 22, whose
 * V8 gains nothing from it, nor on Node 24, where the flag set at run time has no effect (given on
 * the command line it would save 8 MiB); bench/network-path.mjs measures all three. The flag is
 * process-wide and latchkey runs no other WebAssembly.
 */
const LIFTOFF_ONLY = process.versions.node.startsWith("20.");
let liftoffSet: Promise<void> | undefined;

function liftoffFirst(base: FetchLike): FetchLike {
  return async (input, init) => {
    liftoffSet ??= import("node:v8").then((v8) => v8.setFlagsFromString("--liftoff-only"));
    await liftoffSet;
    return base(input, init);
  };
}

/**
 * The HTTP transport for every request latchkey makes: undici's `EnvHttpProxyAgent`
 * (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) with the extra CA or skip-verify, loaded only when
 * one of them is in use; otherwise the global `fetch`. Undefined (the global `fetch` as it is)
 * when neither an agent nor the WebAssembly setting above is wanted; nothing is loaded before the
 * first request, so the hot path loads nothing.
 */
export async function createTransport(options: TransportOptions): Promise<FetchLike | undefined> {
  const agent = needsAgent(options) ? await agentTransport(options) : undefined;
  if (!LIFTOFF_ONLY) return agent;
  return liftoffFirst(agent ?? ((input, init) => fetch(input, init)));
}

/** `fetch` through undici's `EnvHttpProxyAgent` with the extra CA or skip-verify. */
async function agentTransport(options: TransportOptions): Promise<FetchLike> {
  let ca: string[] | undefined;
  if (options.caFile !== undefined) {
    let pem: string;
    try {
      pem = await readFile(options.caFile, "utf8");
    } catch (cause) {
      throw new ConfigurationError(
        ErrorCode.CONFIG_INVALID,
        `Cannot read --ca-file (${(cause as NodeJS.ErrnoException).code ?? "error"}).`,
        { cause },
      );
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new ConfigurationError(ErrorCode.CONFIG_INVALID, "--ca-file holds no PEM certificate.");
    }
    const { rootCertificates } = await import("node:tls");
    ca = [...rootCertificates, pem];
  }
  const tls: { ca?: string[]; rejectUnauthorized?: boolean } = {};
  if (ca) tls.ca = ca;
  if (options.insecure) tls.rejectUnauthorized = false;
  const undici = await import("undici");
  const agentOptions: ConstructorParameters<typeof undici.EnvHttpProxyAgent>[0] = {
    connect: tls,
    requestTls: tls,
  };
  const env = options.env;
  const httpProxy = proxyUrl(env, "HTTP_PROXY");
  if (httpProxy) agentOptions.httpProxy = httpProxy;
  const httpsProxy = proxyUrl(env, "HTTPS_PROXY");
  if (httpsProxy) agentOptions.httpsProxy = httpsProxy;
  if (env.NO_PROXY ?? env.no_proxy) agentOptions.noProxy = (env.NO_PROXY ?? env.no_proxy) as string;
  const dispatcher = new undici.EnvHttpProxyAgent(agentOptions);
  return (input, init) =>
    undici.fetch(input as Parameters<typeof undici.fetch>[0], {
      ...(init as Parameters<typeof undici.fetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>;
}

/**
 * The proxy a variable names (upper case first, then lower case, as curl reads them), as an
 * absolute URL. A value without a scheme (`127.0.0.1:3128`, `proxy.corp`) means `http://`, as in
 * curl; a scheme undici cannot speak (`socks5://`) or a value that is no URL is a configuration
 * error (exit 2) whose message names the variable but never repeats the value, which may hold a
 * password.
 */
export function proxyUrl(
  env: TransportOptions["env"],
  name: "HTTP_PROXY" | "HTTPS_PROXY",
): string | undefined {
  const raw = (env[name] || env[name.toLowerCase()])?.trim();
  if (!raw) return undefined;
  const withScheme = /^[a-z][a-z\d+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(withScheme);
  } catch {
    parsed = undefined;
  }
  if (!parsed?.hostname || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      `${name} is not a usable proxy address: give http://HOST:PORT or https://HOST:PORT${
        parsed ? ` (${parsed.protocol.slice(0, -1)} proxies are not supported)` : ""
      }.`,
    );
  }
  return parsed.href;
}
