import { spawn } from "node:child_process";
import {
  type CredentialKey,
  type Credentials,
  decodeJwtClaims,
  ErrorCode,
  LatchkeyError,
  ProtocolError,
  parseStoredCredentials,
  serializeCredentials,
} from "@latchkey/core/store";
import { splitCommand } from "@latchkey/node-server";
import { CliErrorCode } from "./exit-codes.js";

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || "(empty)";
}

/**
 * `--flow command`: runs the command (split into words, no shell); its trimmed stdout is the
 * access token. On failure the error shows the exit status and the command's stderr, shortened;
 * never its stdout, which may hold a token. What it prints must be an access token as a token
 * endpoint's would be (printable ASCII without spaces, at most 64 KiB, issue 13), else
 * `INVALID_RESPONSE`.
 */
export function runTokenCommand(
  command: string,
  options: { key: CredentialKey; signal: AbortSignal; timeoutMs: number },
): Promise<Credentials> {
  const [program, ...args] = splitCommand(command);
  if (!program)
    return Promise.reject(new LatchkeyError(ErrorCode.CONFIG_INVALID, "--command is empty."));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ["ignore", "pipe", "pipe"],
      shell: false,
      signal: options.signal,
      timeout: options.timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (stdout.length < 1_000_000) stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length < 100_000) stderr += d;
    });
    child.on("error", (cause) => {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === "ABORT_ERR")
        reject(new LatchkeyError(ErrorCode.ABORTED, "The token command was cancelled."));
      else
        reject(
          new LatchkeyError(
            CliErrorCode.COMMAND_FAILED,
            `Could not run the token command "${program}" (${code ?? "error"}).`,
            { cause },
          ),
        );
    });
    child.on("close", (status, signal) => {
      const token = stdout.trim();
      if (status !== 0 || !token) {
        const how =
          status === null
            ? `was killed by ${signal}`
            : status === 0
              ? "printed no token"
              : `exited with status ${status}`;
        // Its stdout is never shown: a helper that printed a token and then failed would put the
        // token on stderr. Only its length is, beside the helper's own message on stderr.
        const printed = stdout.length ? `printed ${stdout.length} characters (not shown); ` : "";
        reject(
          new LatchkeyError(
            CliErrorCode.COMMAND_FAILED,
            `The token command ${how}; ${printed}stderr: ${excerpt(stderr)}`,
          ),
        );
        return;
      }
      const credentials: Credentials = {
        accessToken: token,
        tokenType: "Bearer",
        issuer: options.key.issuer,
        clientId: options.key.clientId,
        obtainedAt: Date.now(),
      };
      const exp = decodeJwtClaims(token)?.exp;
      if (typeof exp === "number")
        credentials.expiresAt = Math.min(Math.max(exp * 1000, 0), 253_402_300_799_000);
      try {
        // The checks of the stored record: a token with a control character, a space or a line
        // break would reach terminals and headers verbatim.
        resolve(parseStoredCredentials(serializeCredentials(credentials)));
      } catch {
        reject(
          new ProtocolError(
            ErrorCode.INVALID_RESPONSE,
            `The token command printed something that is not an access token (${stdout.length} characters, not shown): printable ASCII without spaces, at most 64 KiB, is expected.`,
          ),
        );
      }
    });
  });
}
