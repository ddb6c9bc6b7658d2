export type { OpenBrowserOptions } from "./browser.js";
export { browserUnavailableReason, openBrowser, splitCommand } from "./browser.js";
export type { CallbackServer, CallbackServerOptions } from "./callback-server.js";
export { startCallbackServer } from "./callback-server.js";
export type { ResultPageOptions } from "./pages.js";
export { escapeHtml, failurePage, PAGE_HEADERS, strayPage, successPage } from "./pages.js";
export type { BrowserLoginEvent, BrowserLoginOptions } from "./login.js";
export { loginWithBrowser } from "./login.js";
