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

/**
 * The HTTP transport for every request latchkey makes: undici's `EnvHttpProxyAgent`
 * (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) with the extra CA or skip-verify, loaded only when
 * one of them is in use; otherwise undefined (the global `fetch`), so the hot path loads nothing.
 */
export async function createTransport(options: TransportOptions): Promise<FetchLike | undefined> {
  const proxied = PROXY_VARIABLES.some((name) => options.env[name]);
  if (!proxied && options.caFile === undefined && !options.insecure) return undefined;
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
