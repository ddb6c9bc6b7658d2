/** Options of {@link followLoginRedirects}. */
export interface FollowLoginRedirectsOptions {
  /** How many redirects to follow before giving up. Default 10. */
  maxRedirects?: number;
  /** The fetch to use, e.g. a fake server's in-memory `server.fetch`. Default the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * The app's redirect URI, recognised by origin and path. Default: the `redirect_uri` parameter
   * of the authorization URL; without one (PAR), the first redirect that leaves the origin of the
   * authorization URL.
   */
  redirectUri?: string;
  /**
   * Whether to request the redirect URI too, as a browser would, and return the app's answer.
   * Default: `true` with the global `fetch` (the code reaches the app's loopback listener),
   * `false` with another `fetch` (the redirect URI is returned, never requested: in memory
   * there is nobody but the fake server to ask).
   */
  deliver?: boolean;
}

/** Where {@link followLoginRedirects} stopped. */
export interface FollowLoginRedirectsResult {
  /** The URL of the last response, or the redirect URI with its parameters when not delivered. */
  finalUrl: string;
  /** Its status code (the redirect's own status when the redirect URI was not requested). */
  status: number;
  /** Its body, as text (empty when the redirect URI was not requested). */
  body: string;
  /** How many redirects were followed (the one to the redirect URI counts). */
  hops: number;
  /**
   * The redirect URI as the authorization server sent the browser there: with `code`, `state`
   * and `iss`, or `error`. Absent when no redirect reached the redirect URI.
   */
  callbackUrl?: string;
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Whether `url` is the redirect URI (same origin and path), or, unknown, leaves `start`'s origin. */
function isRedirectUri(url: URL, redirectUri: URL | undefined, start: URL): boolean {
  return redirectUri === undefined
    ? url.origin !== start.origin
    : url.origin === redirectUri.origin && url.pathname === redirectUri.pathname;
}

/**
 * A headless stand-in for the user's browser: `GET`s the authorization URL and follows each
 * `Location` (resolved against the current URL) until a response that is not a redirect, or
 * until the app's redirect URI. With the fake server's auto-approval, this delivers the code to
 * the app's loopback callback (global `fetch`), or returns the callback URL without requesting it
 * (an injected `fetch`, or `deliver: false`).
 *
 * @param authorizationUrl - The URL the app would open in the browser.
 * @param options - `maxRedirects`, an injectable `fetch`, `redirectUri` and `deliver`.
 * @returns The last response's URL, status and body, the number of hops and the callback URL.
 * @throws Error when more than `maxRedirects` redirects are needed or a redirect has no `Location`.
 *
 * @example
 * ```ts
 * // In memory: the callback URL (code, state, iss) comes back; nothing requests it.
 * const { callbackUrl } = await followLoginRedirects(authorizationUrl, { fetch: server.fetch });
 * ```
 */
export async function followLoginRedirects(
  authorizationUrl: string,
  options: FollowLoginRedirectsOptions = {},
): Promise<FollowLoginRedirectsResult> {
  const maxRedirects = options.maxRedirects ?? 10;
  const fetchImpl = options.fetch ?? fetch;
  const deliver =
    options.deliver ?? (options.fetch === undefined || options.fetch === globalThis.fetch);
  const start = new URL(authorizationUrl);
  const redirectUriText = options.redirectUri ?? start.searchParams.get("redirect_uri");
  const redirectUri = redirectUriText === null ? undefined : new URL(redirectUriText);
  let url = start.href;
  let callbackUrl: string | undefined;
  for (let hops = 0; ; hops += 1) {
    const response = await fetchImpl(url, { redirect: "manual" });
    const location = response.headers.get("location");
    const result = { finalUrl: url, hops, ...(callbackUrl === undefined ? {} : { callbackUrl }) };
    if (!REDIRECT_STATUSES.has(response.status) || location === null) {
      if (REDIRECT_STATUSES.has(response.status)) {
        await response.body?.cancel();
        throw new Error(`redirect without Location (status ${response.status})`);
      }
      return { ...result, status: response.status, body: await response.text() };
    }
    await response.body?.cancel();
    if (hops >= maxRedirects) {
      throw new Error(`more than ${maxRedirects} redirects`);
    }
    const next = new URL(location, url);
    url = next.href;
    if (callbackUrl === undefined && isRedirectUri(next, redirectUri, start)) {
      callbackUrl = url;
      if (!deliver) {
        return { finalUrl: url, status: response.status, body: "", hops: hops + 1, callbackUrl };
      }
    }
  }
}
