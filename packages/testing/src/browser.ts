/** Options of {@link followLoginRedirects}. */
export interface FollowLoginRedirectsOptions {
  /** How many redirects to follow before giving up. Default 10. */
  maxRedirects?: number;
  /** The fetch to use, e.g. a fake server's in-memory `fetch`. Default the global `fetch`. */
  fetch?: typeof fetch;
}

/** Where {@link followLoginRedirects} stopped. */
export interface FollowLoginRedirectsResult {
  /** The URL of the last response (the one that did not redirect). */
  finalUrl: string;
  /** Its status code. */
  status: number;
  /** Its body, as text. */
  body: string;
  /** How many redirects were followed. */
  hops: number;
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * A headless stand-in for the user's browser: `GET`s the authorization URL and follows each
 * `Location` (resolved against the current URL) until a response that is not a redirect. With the
 * fake server's auto-approval, this delivers the code to the app's loopback callback.
 *
 * @param authorizationUrl - The URL the app would open in the browser.
 * @param options - `maxRedirects` and an injectable `fetch`.
 * @returns The last response's URL, status and body, and the number of hops.
 * @throws Error when more than `maxRedirects` redirects are needed or a redirect has no `Location`.
 *
 * @example
 * ```ts
 * const { status, finalUrl } = await followLoginRedirects(authorizationUrl);
 * ```
 */
export async function followLoginRedirects(
  authorizationUrl: string,
  options: FollowLoginRedirectsOptions = {},
): Promise<FollowLoginRedirectsResult> {
  const maxRedirects = options.maxRedirects ?? 10;
  const fetchImpl = options.fetch ?? fetch;
  let url = new URL(authorizationUrl).href;
  for (let hops = 0; ; hops += 1) {
    const response = await fetchImpl(new Request(url, { redirect: "manual" }));
    const location = response.headers.get("location");
    if (!REDIRECT_STATUSES.has(response.status) || location === null) {
      if (REDIRECT_STATUSES.has(response.status)) {
        await response.body?.cancel();
        throw new Error(`redirect without Location (status ${response.status})`);
      }
      return { finalUrl: url, status: response.status, body: await response.text(), hops };
    }
    await response.body?.cancel();
    if (hops >= maxRedirects) {
      throw new Error(`more than ${maxRedirects} redirects`);
    }
    url = new URL(location, url).href;
  }
}
