/** What the result page shows: the reference's `EndpointMetadata`, as options. */
export interface ResultPageOptions {
  /** The name shown in "Successfully logged into {endpoint}". Default: the issuer's host. */
  endpointName?: string;
  /** A complete HTML document to show instead of the default success page. */
  successHtml?: string;
  /** A complete HTML document to show instead of the default failure page. */
  failureHtml?: string;
}

/** Escapes text for HTML element content and attribute values (S27). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;background:#f6f7f9;color:#1b1f24}
main{max-width:34rem;margin:1rem;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .75rem}.ok h1{color:#116329}.fail h1{color:#a40e26}
code{background:#eef0f3;padding:.1em .3em;border-radius:4px}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}main{background:#161b22}code{background:#30363d}.ok h1{color:#3fb950}.fail h1{color:#f85149}}`;

function page(title: string, kind: "ok" | "fail", body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main class="${kind}" role="main">${body}</main></body></html>`;
}

/** The default success page (title and heading as the reference has them). */
export function successPage(options: ResultPageOptions): string {
  if (options.successHtml !== undefined) return options.successHtml;
  const endpoint = escapeHtml(options.endpointName ?? "the authorization server");
  return page(
    "OAuth2 Authentication Success",
    "ok",
    `<h1>Successfully logged into ${endpoint}</h1>
<p>You can close this tab and return to the terminal.</p>`,
  );
}

/** The default failure page; the reason is escaped (S27). */
export function failurePage(options: ResultPageOptions, reason: string): string {
  if (options.failureHtml !== undefined) return options.failureHtml;
  return page(
    "OAuth2 Authentication Failed",
    "fail",
    `<h1>Login failed</h1>
<p>${escapeHtml(reason)}</p>
<p>Return to the terminal for details, then run the login again.</p>`,
  );
}

/** The page for a request that does not belong to the login in progress; the login goes on. */
export function strayPage(reason: string): string {
  return page(
    "Not part of this login",
    "fail",
    `<h1>This request is not part of the login in progress</h1>
<p>${escapeHtml(reason)}</p>
<p>The login is still waiting. Finish it in the tab the terminal opened.</p>`,
  );
}

/** Response headers of every HTML page (S27, S28). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/html; charset=utf-8",
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "X-Frame-Options": "DENY",
};
