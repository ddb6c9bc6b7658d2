/**
 * A loopback redirect URI split into the part that must match exactly (scheme, host, path and
 * query) and the port, which RFC 8252 §7.3 lets the client choose at run time.
 *
 * The host must be followed by a port, a path, a query or nothing, so
 * `http://127.0.0.1@evil.example/` and `http://127.0.0.1.evil.example/` are not loopback.
 */
const LOOPBACK_REDIRECT_URI =
  /^(http:\/\/(?:127\.0\.0\.1|\[::1\]|localhost))(?::(\d{1,5}))?((?:[/?][^#]*)?)$/;

interface LoopbackParts {
  readonly fixed: string;
  readonly port: string | undefined;
}

function splitLoopback(uri: string): LoopbackParts | undefined {
  const match = LOOPBACK_REDIRECT_URI.exec(uri);
  if (match === null) {
    return undefined;
  }
  return { fixed: `${match[1] ?? ""}${match[3] ?? ""}`, port: match[2] };
}

function isValidPort(port: string | undefined): boolean {
  if (port === undefined) {
    return true;
  }
  const value = Number(port);
  return Number.isInteger(value) && value >= 1 && value <= 65_535;
}

/**
 * Whether a redirect URI sent by a client matches one registered for it (S1).
 *
 * The comparison is a plain string comparison (RFC 9700 §4.1.3), with one exception: when the
 * registered URI is an `http` URI on `127.0.0.1`, `[::1]` or `localhost`, the port of the
 * requested URI may differ (RFC 8252 §7.3, §8.4). Scheme, host, path and query are never
 * relaxed, and no normalisation (case, percent-encoding, default port, trailing slash) happens.
 *
 * @param registered - A redirect URI registered for the client.
 * @param requested - The `redirect_uri` parameter of the request.
 * @returns `true` when the requested URI may be used.
 *
 * @example
 * ```ts
 * redirectUriMatches("http://127.0.0.1/callback", "http://127.0.0.1:49152/callback"); // true
 * redirectUriMatches("http://127.0.0.1/callback", "http://127.0.0.1:49152/callback/"); // false
 * ```
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (requested === registered) {
    return !requested.includes("#");
  }
  const registeredParts = splitLoopback(registered);
  if (registeredParts === undefined) {
    return false;
  }
  const requestedParts = splitLoopback(requested);
  return (
    requestedParts !== undefined &&
    requestedParts.fixed === registeredParts.fixed &&
    isValidPort(requestedParts.port)
  );
}
