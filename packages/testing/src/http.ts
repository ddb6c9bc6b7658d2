/** Wire-level helpers of the fake server: parameters, JSON and HTML responses, Basic credentials. */

export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const;

export interface Params {
  /** First value of each name, empty ones included (for the log). */
  readonly raw: Record<string, string>;
  /** Names given more than once. */
  readonly duplicates: readonly string[];
  /** The value of a parameter; an empty value counts as absent (RFC 6749 §3.1). */
  get(name: string): string | undefined;
}

export function parseParams(search: URLSearchParams): Params {
  const raw: Record<string, string> = {};
  const duplicates = new Set<string>();
  for (const [name, value] of search) {
    if (Object.hasOwn(raw, name)) {
      duplicates.add(name);
    } else {
      raw[name] = value;
    }
  }
  return {
    raw,
    duplicates: [...duplicates],
    get(name) {
      const value = Object.hasOwn(raw, name) ? raw[name] : undefined;
      return value === "" ? undefined : value;
    },
  };
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): Response {
  return json(status, { error, error_description: description }, { ...NO_STORE, ...headers });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** An HTML page; `body` must already be escaped. */
export function htmlPage(
  status: number,
  title: string,
  body: string,
  headers: Record<string, string> = {},
): Response {
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  return new Response(page, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "x-content-type-options": "nosniff",
      "content-security-policy":
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      "referrer-policy": "no-referrer",
      ...NO_STORE,
      ...headers,
    },
  });
}

/** An error shown to the user instead of redirecting, for a client or redirect URI that cannot be trusted. */
export function htmlError(description: string): Response {
  return htmlPage(400, "Authorization error", `<p>${escapeHtml(description)}</p>`);
}

/** Appends parameters to a redirect URI without re-serialising it, so its existing query stays byte for byte. */
export function appendQuery(uri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) {
      query.append(name, value);
    }
  }
  const separator = !uri.includes("?") ? "?" : uri.endsWith("?") || uri.endsWith("&") ? "" : "&";
  return `${uri}${separator}${query.toString()}`;
}

export function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { location, ...NO_STORE } });
}

export function validateIssuer(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TypeError(`issuer is not an absolute URL: ${issuer}`);
  }
  const path = url.pathname === "/" ? "" : url.pathname;
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.username !== "" ||
    url.password !== "" ||
    path.endsWith("/") ||
    issuer !== `${url.origin}${path}`
  ) {
    throw new TypeError(
      `issuer must be an http(s) URL without query, fragment, credentials or trailing slash, in normal form: ${issuer}`,
    );
  }
  return url;
}

export function positiveInteger(
  name: string,
  value: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new RangeError(`${name} must be an integer between 1 and ${max}, got ${value}`);
  }
  return value;
}

export function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

/** `Basic` credentials per RFC 6749 §2.3.1: both halves are form-urlencoded before base64. */
export function parseBasic(value: string): { id: string; secret: string } | undefined {
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(value);
  if (match?.[1] === undefined) {
    return undefined;
  }
  try {
    const bytes = Uint8Array.from(atob(match[1]), (character) => character.charCodeAt(0));
    const decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      return undefined;
    }
    return {
      id: decodeFormComponent(decoded.slice(0, colon)),
      secret: decodeFormComponent(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

export function scopeList(scope: string): string[] {
  return scope === "" ? [] : scope.split(" ");
}
