import { escapeHtml, htmlPage } from "./http.js";

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
  // Canonical decimal only: `08080` is not `8080` written differently, it is refused.
  return Number.isInteger(value) && value >= 1 && value <= 65_535 && String(value) === port;
}

/**
 * Whether a redirect URI sent by a client matches one registered for it (S1).
 *
 * The comparison is a plain string comparison (RFC 9700 §4.1.3), with one exception: when the
 * registered URI is an `http` URI on `127.0.0.1`, `[::1]` or `localhost`, the port of the
 * requested URI may differ (RFC 8252 §7.3, §8.4). Scheme, host, path and query are never
 * relaxed, and no normalisation (case, percent-encoding, default port, trailing slash) happens;
 * a port written with a leading zero (`:08080`) is not canonical and never matches.
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

/**
 * The 400 page for a `redirect_uri` not registered for the client (S1: never a redirect). It names
 * the URIs that are registered, escaped, so a test author sees at once what to register.
 *
 * @param clientId - The client of the request.
 * @param requested - The `redirect_uri` it sent.
 * @param registered - The client's registered redirect URIs.
 * @returns An HTML `Response` with status 400.
 */
export function redirectUriNotRegisteredPage(
  clientId: string,
  requested: string,
  registered: readonly string[],
): Response {
  const list = registered.map((uri) => `<li><code>${escapeHtml(uri)}</code></li>`).join("");
  return htmlPage(
    400,
    "Authorization error",
    `<p>The redirect_uri is not registered for this client: <code>${escapeHtml(requested)}</code> (client <code>${escapeHtml(clientId)}</code>).</p>
<p>Registered for it (an <code>http</code> URI on 127.0.0.1, [::1] or localhost matches on any port):</p>
<ul>${list}</ul>
<p>Register more with the client's <code>redirectUris</code>, or <code>latchkey-fake-idp --redirect-uri URI</code>.</p>`,
  );
}
