import {
  authorizationHeader,
  ConfigurationError,
  type Credentials,
  ErrorCode,
} from "@latchkey/core/store";
import type { TokenFormat } from "./config.js";
import { idTokenExpiresAt } from "./id-token.js";
import { rfc3339, secondsUntil } from "./time.js";

/** What `latchkey token` prints: the access token, or the ID token with `--id-token`. */
export interface PrintedToken {
  /** The token itself. Secret. */
  token: string;
  /** When it expires, in milliseconds since the epoch, if known. */
  expiresAt?: number;
  /** Whether it is the ID token (`--id-token`). */
  idToken: boolean;
}

/** What kubectl says in `KUBERNETES_EXEC_INFO` (the `ExecCredential` it sends the plugin). */
export interface ExecInfo {
  /** The `client.authentication.k8s.io/...` version to answer with. */
  apiVersion: string;
  /** `spec.interactive`: `false` when the user cannot be asked anything (no login then). */
  interactive: boolean;
}

const EXEC_API = "client.authentication.k8s.io/";

/**
 * Reads `KUBERNETES_EXEC_INFO`. kubectl (client-go) sets it for exec credential plugins;
 * `spec.interactive` is false with `interactiveMode: Never`, and with `IfAvailable` when its
 * stdin is not a terminal. Without the variable (an older kubectl, a direct call), the call may
 * be interactive as any other.
 *
 * @throws ConfigurationError when the variable is set and is not a JSON object.
 */
export function readExecInfo(env: Readonly<Record<string, string | undefined>>): ExecInfo {
  const info: ExecInfo = { apiVersion: `${EXEC_API}v1`, interactive: true };
  const text = env.KUBERNETES_EXEC_INFO;
  if (!text) return info;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== "object")
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "KUBERNETES_EXEC_INFO is not valid JSON.",
    );
  const { apiVersion, spec } = parsed as { apiVersion?: unknown; spec?: { interactive?: unknown } };
  if (typeof apiVersion === "string" && apiVersion.startsWith(EXEC_API))
    info.apiVersion = apiVersion;
  if (spec?.interactive === false) info.interactive = false;
  return info;
}

/** The token to print: the access token, or the ID token and its `exp` with `--id-token`. */
export function printedToken(credentials: Credentials, idToken: boolean): PrintedToken {
  if (!idToken) {
    const printed: PrintedToken = { token: credentials.accessToken, idToken: false };
    if (credentials.expiresAt !== undefined) printed.expiresAt = credentials.expiresAt;
    return printed;
  }
  const printed: PrintedToken = { token: credentials.idToken ?? "", idToken: true };
  const expiresAt = idTokenExpiresAt(credentials.idToken);
  if (expiresAt !== undefined) printed.expiresAt = expiresAt;
  return printed;
}

/**
 * Formats the token as `--format` says (docs/cli.md). In `json`, the access token gives
 * `access_token`, `token_type`, `expires_at`, `expires_in`, `scope` and `id_token`; with
 * `--id-token` only `id_token` and the ID token's own `expires_at` and `expires_in`.
 */
export function formatToken(
  credentials: Credentials,
  format: TokenFormat,
  options: { idToken: boolean; exec?: ExecInfo },
): string {
  const printed = printedToken(credentials, options.idToken);
  switch (format) {
    case "raw":
      return printed.token;
    case "header": {
      // The ID token (--id-token) goes as a bearer token of the same session.
      const sent = { tokenType: credentials.tokenType, accessToken: printed.token };
      return `Authorization: ${authorizationHeader(sent)}`;
    }
    case "json": {
      const body: Record<string, unknown> = options.idToken
        ? { id_token: printed.token }
        : { access_token: printed.token, token_type: credentials.tokenType };
      if (printed.expiresAt !== undefined) {
        body.expires_at = rfc3339(printed.expiresAt);
        body.expires_in = secondsUntil(printed.expiresAt, Date.now());
      }
      if (!options.idToken) {
        if (credentials.scope !== undefined) body.scope = credentials.scope;
        if (credentials.idToken !== undefined) body.id_token = credentials.idToken;
      }
      return JSON.stringify(body);
    }
    case "exec-credential": {
      const status: Record<string, string> = { token: printed.token };
      if (printed.expiresAt !== undefined) status.expirationTimestamp = rfc3339(printed.expiresAt);
      return JSON.stringify({
        apiVersion: options.exec?.apiVersion ?? `${EXEC_API}v1`,
        kind: "ExecCredential",
        status,
      });
    }
    default: {
      const unreachable: never = format;
      return unreachable;
    }
  }
}
