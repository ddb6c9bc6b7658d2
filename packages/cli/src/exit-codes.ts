import {
  ConfigurationError,
  ErrorCode,
  LatchkeyError,
  LoginRequiredError,
  ProtocolError,
  StoreError,
  TransportError,
} from "@latchkey/core/store";
import type { NodeServerErrorCode } from "@latchkey/node-server";

/** The error codes the CLI owns, beside core's and node-server's. */
export const CliErrorCode = {
  /** The `--flow command` helper failed or printed no token. */
  COMMAND_FAILED: "COMMAND_FAILED",
} as const;

/** One of the values of {@link CliErrorCode}. */
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

// node-server's codes by value: importing them would load node-server on `latchkey token`'s path.
const PORT_IN_USE: NodeServerErrorCode = "PORT_IN_USE";
const BROWSER_FAILED: NodeServerErrorCode = "BROWSER_FAILED";

/** The exit codes of docs/cli.md. */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** An unexpected error, or a stored record that cannot be read (`STORE_CORRUPT`). */
  INTERNAL: 1,
  /** Usage or configuration: a bad flag or config, a port in use, a refused client, no store. */
  USAGE: 2,
  /** The authorization server or the callback refused the login, or a `--flow command` failed. */
  AUTH_FAILED: 3,
  /** A login is needed and was not allowed (`token --no-login`, non-interactive kubectl). */
  LOGIN_REQUIRED: 4,
  /** The network or the server failed, or a wait timed out: retrying may help. */
  NETWORK: 5,
  /** Cancelled (Ctrl-C, `ABORTED`). */
  INTERRUPTED: 130,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const BY_CODE: Partial<Record<string, ExitCode>> = {
  [ErrorCode.ABORTED]: ExitCode.INTERRUPTED,
  [ErrorCode.TIMEOUT]: ExitCode.NETWORK,
  [PORT_IN_USE]: ExitCode.USAGE,
  [BROWSER_FAILED]: ExitCode.USAGE,
  [ErrorCode.INVALID_CLIENT]: ExitCode.USAGE,
  [ErrorCode.STORE_UNAVAILABLE]: ExitCode.USAGE,
  [ErrorCode.STORE_CORRUPT]: ExitCode.INTERNAL,
  [ErrorCode.LOGIN_REQUIRED]: ExitCode.LOGIN_REQUIRED,
  [CliErrorCode.COMMAND_FAILED]: ExitCode.AUTH_FAILED,
};

/**
 * The exit code for an error: by its stable code first, then by its class (a
 * `ConfigurationError` is `USAGE`, a `ProtocolError` `AUTH_FAILED`, a `TransportError`
 * `NETWORK`); anything that is not a `LatchkeyError` is `INTERNAL`.
 *
 * @example
 * ```ts
 * exitCodeFor(new LatchkeyError(ErrorCode.ABORTED, "Cancelled.")); // 130
 * ```
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (!(error instanceof LatchkeyError)) return ExitCode.INTERNAL;
  const byCode = BY_CODE[error.code];
  if (byCode !== undefined) return byCode;
  if (error instanceof ConfigurationError) return ExitCode.USAGE;
  if (error instanceof ProtocolError) return ExitCode.AUTH_FAILED;
  if (error instanceof LoginRequiredError) return ExitCode.LOGIN_REQUIRED;
  if (error instanceof TransportError) return ExitCode.NETWORK;
  if (error instanceof StoreError) return ExitCode.INTERNAL;
  return error.code === ErrorCode.CONFIG_INVALID ? ExitCode.USAGE : ExitCode.INTERNAL;
}

/** A one-line hint for the user, by error code. */
export function hintFor(error: unknown): string | undefined {
  if (!(error instanceof LatchkeyError)) return undefined;
  switch (error.code as string) {
    case ErrorCode.LOGIN_REQUIRED:
      return "Run `latchkey login` (with the same --issuer, --client-id and --profile).";
    case ErrorCode.INVALID_GRANT:
      return "The session is no longer valid; run `latchkey login` again.";
    case ErrorCode.INVALID_CLIENT:
      return "Check --client-id and the client secret.";
    case ErrorCode.NETWORK_ERROR:
      if (/CERT|SSL|TLS|SELF_SIGNED/i.test(error.message)) {
        return "The server's TLS certificate is not trusted: add its CA with --ca-file (or, only for testing, --insecure-skip-tls-verify).";
      }
      return "Check the network (HTTPS_PROXY, VPN) and try again; stored credentials were kept.";
    case ErrorCode.SERVER_ERROR:
      return "Check the network (HTTPS_PROXY, VPN) and try again; stored credentials were kept.";
    case ErrorCode.TIMEOUT:
      return "Nothing came back in time; run the command again, or raise --timeout.";
    case PORT_IN_USE:
      return "Use --port 0 for a free port, or free the port.";
    case ErrorCode.STORE_UNAVAILABLE:
      return "Try --store file, or check the permissions of --store-dir.";
    default:
      return undefined;
  }
}
