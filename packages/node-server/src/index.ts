export type { BrowserResolution, OpenBrowserOptions } from "./browser.js";
export { browserUnavailableReason, openBrowser, resolveBrowser, splitCommand } from "./browser.js";
export type {
  CallbackHandler,
  CallbackHandlerOptions,
} from "./callback-handler.js";
export { createCallbackHandler } from "./callback-handler.js";
export type { CallbackHost, CallbackServer, CallbackServerOptions } from "./callback-server.js";
export { callbackOptionsFromRedirectUri, startCallbackServer } from "./callback-server.js";
export { NodeServerErrorCode } from "./errors.js";
export type {
  BrowserLoginEvent,
  BrowserLoginOptions,
  InteractiveLoginOptions,
  LoginCallbackOptions,
  LoginEvent,
  LoginMode,
  LoginModeChoice,
  LoopbackPromptEvent,
} from "./login.js";
export {
  chooseLoginMode,
  interactiveLogin,
  judgePastedCallback,
  loginWithBrowser,
} from "./login.js";
export type { ResultPageOptions } from "./pages.js";
export { escapeHtml, failurePage, PAGE_HEADERS, strayPage, successPage } from "./pages.js";
export { escapeTerminal } from "./terminal.js";
