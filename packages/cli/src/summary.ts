import { type Credentials, decodeJwtClaims } from "@latchkey/core/store";
import { printable } from "./output.js";
import { printableDate, secondsUntil } from "./time.js";

const SECRET_CLAIMS = new Set(["nonce", "at_hash", "c_hash", "s_hash", "sid"]);

/** What `status`, `demo` and `login --json` show: never a token (S42). */
export interface CredentialsSummary {
  profile: string;
  issuer: string;
  client_id: string;
  store: string;
  logged_in: boolean;
  expires_at?: string;
  expires_in?: number;
  scope?: string;
  subject?: string;
  has_refresh_token?: boolean;
  id_token_claims?: Record<string, unknown>;
}

/** Builds the secret-free summary of stored credentials. */
export function summarize(
  credentials: Credentials | undefined,
  context: { profile: string; issuer: string; clientId: string; store: string; now: number },
): CredentialsSummary {
  const summary: CredentialsSummary = {
    profile: context.profile,
    issuer: context.issuer,
    client_id: context.clientId,
    store: context.store,
    logged_in: credentials !== undefined,
  };
  if (!credentials) return summary;
  if (credentials.expiresAt !== undefined) {
    // Clamped: a record of an older version may say 1e300 (issue 13).
    summary.expires_at = printableDate(credentials.expiresAt).toISOString();
    summary.expires_in = secondsUntil(credentials.expiresAt, context.now);
  }
  if (credentials.scope !== undefined) summary.scope = credentials.scope;
  summary.has_refresh_token = credentials.refreshToken !== undefined;
  const claims = decodeJwtClaims(credentials.idToken);
  const sub = claims?.sub ?? decodeJwtClaims(credentials.accessToken)?.sub;
  if (typeof sub === "string") summary.subject = sub;
  if (claims) {
    summary.id_token_claims = Object.fromEntries(
      Object.entries(claims).filter(([name]) => !SECRET_CLAIMS.has(name)),
    );
  }
  return summary;
}

function relative(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The summary as aligned text lines, with server-provided strings made printable. */
export function formatSummary(summary: CredentialsSummary): string {
  const rows: [string, string][] = [
    ["Profile", summary.profile],
    ["Issuer", summary.issuer],
    ["Client", summary.client_id],
    ["Store", summary.store],
    ["Logged in", summary.logged_in ? "yes" : "no"],
  ];
  if (summary.subject !== undefined) rows.push(["Subject", summary.subject]);
  if (summary.expires_at !== undefined) {
    rows.push(["Expires", `${summary.expires_at} (in ${relative(summary.expires_in ?? 0)})`]);
  }
  if (summary.scope !== undefined) rows.push(["Scopes", summary.scope]);
  if (summary.has_refresh_token !== undefined)
    rows.push(["Refresh token", summary.has_refresh_token ? "yes" : "no"]);
  if (summary.id_token_claims) {
    const claims = Object.entries(summary.id_token_claims)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(", ");
    rows.push(["ID token", claims]);
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${printable(value)}`).join("\n");
}
