import {
  type AccessTokenResult,
  type Credentials,
  decodeJwtClaims,
  ErrorCode,
  type GetAccessTokenOptions,
  getAccessToken,
  LatchkeyError,
  LoginRequiredError,
} from "@latchkey/core/store";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { printable } from "./output.js";
import { rfc3339 } from "./time.js";

// `latchkey token --id-token`: the ID token must be there and stay valid for --min-validity too.

/**
 * The ID token's `exp`, in milliseconds since the epoch, if it has one; within the years 1970
 * to 9999, so that it always prints as a date (a stored token may say anything, issue 13).
 */
export function idTokenExpiresAt(idToken: string | undefined): number | undefined {
  const exp = decodeJwtClaims(idToken)?.exp;
  return typeof exp === "number" && Number.isFinite(exp)
    ? Math.min(Math.max(exp * 1000, 0), 253_402_300_799_000)
    : undefined;
}

/**
 * Whether the stored ID token is missing, or expires within `minValiditySeconds`: with
 * `--id-token`, either means a refresh. One without `exp` counts as valid.
 */
export function idTokenNeedsRefresh(
  credentials: Credentials,
  minValiditySeconds: number,
  now: number,
): boolean {
  if (credentials.idToken === undefined) return true;
  const expiresAt = idTokenExpiresAt(credentials.idToken);
  return expiresAt !== undefined && expiresAt - now <= minValiditySeconds * 1000;
}

function idTokenExpired(credentials: Credentials, now: number): boolean {
  const expiresAt = idTokenExpiresAt(credentials.idToken);
  return credentials.idToken === undefined || (expiresAt !== undefined && expiresAt <= now);
}

/**
 * With `--id-token`: the credentials when they hold an ID token that has not expired, else a
 * `LOGIN_REQUIRED` error (exit 4) saying why. Without, the credentials as they are.
 */
export function checkIdToken(credentials: Credentials, idToken: boolean): Credentials {
  if (!idToken || !idTokenExpired(credentials, Date.now())) return credentials;
  throw new LoginRequiredError(
    ErrorCode.LOGIN_REQUIRED,
    credentials.idToken === undefined
      ? "The provider issued no ID token for this session: it issues one only when the openid scope is requested (log in with --scope openid)."
      : "The ID token has expired and no refresh gave a new one; log in again.",
  );
}

/**
 * After `getAccessToken` gave stored credentials: refreshes them (or logs in, where allowed and
 * nothing else can) when the ID token is missing or expires within `minValiditySeconds`. A
 * network or server failure while the stored ID token is still valid gives the stored one and a
 * warning, as for access tokens; exit 5 only when no valid ID token remains.
 */
export async function withFreshIdToken(
  result: AccessTokenResult,
  options: GetAccessTokenOptions,
  minValiditySeconds: number,
  warn: (text: string) => void,
): Promise<AccessTokenResult> {
  const { credentials } = result;
  const renewable =
    credentials.refreshToken !== undefined ||
    (credentials.idToken !== undefined && options.login !== undefined);
  if (
    result.source !== "store" ||
    !renewable ||
    !idTokenNeedsRefresh(credentials, minValiditySeconds, Date.now())
  )
    return result;
  try {
    return await getAccessToken({ ...options, forceRefresh: true });
  } catch (error) {
    if (idTokenExpired(credentials, Date.now()) || exitCodeFor(error) !== ExitCode.NETWORK)
      throw error;
    const reason = error instanceof LatchkeyError ? printable(error.message) : "error";
    const until = rfc3339(idTokenExpiresAt(credentials.idToken) ?? 0);
    warn(`Could not refresh the ID token (${reason}); the stored one is valid until ${until}.`);
    return result;
  }
}
