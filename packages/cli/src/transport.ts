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
  if (env.HTTP_PROXY ?? env.http_proxy)
    agentOptions.httpProxy = (env.HTTP_PROXY ?? env.http_proxy) as string;
  if (env.HTTPS_PROXY ?? env.https_proxy)
    agentOptions.httpsProxy = (env.HTTPS_PROXY ?? env.https_proxy) as string;
  if (env.NO_PROXY ?? env.no_proxy) agentOptions.noProxy = (env.NO_PROXY ?? env.no_proxy) as string;
  const dispatcher = new undici.EnvHttpProxyAgent(agentOptions);
  return (input, init) =>
    undici.fetch(input as Parameters<typeof undici.fetch>[0], {
      ...(init as Parameters<typeof undici.fetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>;
}
