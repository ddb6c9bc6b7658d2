import { escapeText } from "@latchkey/core/store";

/** What the result page shows: the reference's `EndpointMetadata`, as options. */
export interface ResultPageOptions {
  /** The name shown in "Successfully logged into {endpoint}". Default "the authorization server". */
  endpointName?: string;
  /** A complete HTML document to show instead of the default success page. */
  successHtml?: string;
  /** A complete HTML document to show instead of the default failure page. */
  failureHtml?: string;
}

/**
 * Escapes text for HTML element content and attribute values (S27). Text from a server or a
 * callback goes through `escapeText` (`@latchkey/core`) first, as {@link failurePage} does.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** @internal One colour scheme of the default pages. */
export interface PageColors {
  readonly background: string;
  readonly card: string;
  readonly text: string;
  readonly muted: string;
  readonly ok: string;
  readonly fail: string;
}

/**
 * @internal The colours of the default pages, light and dark: every text colour has a contrast
 * of at least 4.5:1 (WCAG AA) with its background; the tests check it.
 */
export const PALETTE: { readonly light: PageColors; readonly dark: PageColors } = {
  light: {
    background: "#f6f7f9",
    card: "#ffffff",
    text: "#1b1f24",
    muted: "#4b5563",
    ok: "#116329",
    fail: "#a40e26",
  },
  dark: {
    background: "#0d1117",
    card: "#161b22",
    text: "#e6edf3",
    muted: "#a9b4c0",
    ok: "#3fb950",
    fail: "#ff7b72",
  },
};

const { light: L, dark: D } = PALETTE;
const STYLE = `:root{color-scheme:light dark}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;background:${L.background};color:${L.text}}
main{max-width:34rem;margin:1rem;padding:2rem;background:${L.card};border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .75rem;display:flex;gap:.5rem;align-items:center}
.ok h1{color:${L.ok}}.fail h1{color:${L.fail}}
.mark{flex:none;display:inline-flex;width:1.6rem;height:1.6rem;border-radius:50%;align-items:center;justify-content:center;color:#fff;font-size:1rem}
.ok .mark{background:${L.ok}}.fail .mark{background:${L.fail}}
.next{color:${L.muted};margin-bottom:0}
@media (prefers-color-scheme:dark){body{background:${D.background};color:${D.text}}main{background:${D.card}}.ok h1{color:${D.ok}}.fail h1{color:${D.fail}}.ok .mark,.fail .mark{color:${D.card}}.ok .mark{background:${D.ok}}.fail .mark{background:${D.fail}}.next{color:${D.muted}}}`;

function page(title: string, kind: "ok" | "fail", heading: string, body: string): string {
  const mark = kind === "ok" ? "&#10003;" : "&#10005;";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main class="${kind}"><h1><span class="mark" aria-hidden="true">${mark}</span><span>${heading}</span></h1>
${body}</main></body></html>`;
}

/** The default success page (title and heading as the reference has them), or `successHtml`. */
export function successPage(options: ResultPageOptions): string {
  if (options.successHtml !== undefined) return options.successHtml;
  const endpoint = escapeHtml(escapeText(options.endpointName ?? "the authorization server"));
  return page(
    "OAuth2 Authentication Success",
    "ok",
    `Successfully logged into ${endpoint}`,
    `<p>You can close this tab and return to the terminal.</p>
<p class="next">The command that asked you to log in now continues by itself.</p>`,
  );
}

/**
 * The default failure page, or `failureHtml`. The reason (which may quote the server's
 * `error_description`) is made visible with `escapeText` (S54), then HTML-escaped (S27).
 */
export function failurePage(options: ResultPageOptions, reason: string): string {
  if (options.failureHtml !== undefined) return options.failureHtml;
  return page(
    "OAuth2 Authentication Failed",
    "fail",
    "Login failed",
    `<p>${escapeHtml(escapeText(reason))}</p>
<p class="next">Close this tab, return to the terminal for details, then run the login again.</p>`,
  );
}

/** The page for a request that does not belong to the login in progress (the reason escaped as in {@link failurePage}); the login goes on. */
export function strayPage(reason: string): string {
  return page(
    "Not part of this login",
    "fail",
    "This request is not part of the login in progress",
    `<p>${escapeHtml(escapeText(reason))}</p>
<p class="next">The login is still waiting. Finish it in the tab the terminal opened.</p>`,
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
