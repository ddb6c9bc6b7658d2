export type { OpenBrowserOptions } from "./browser.js";
export { browserUnavailableReason, openBrowser, splitCommand } from "./browser.js";
export type {
  CallbackHandler,
  CallbackHandlerOptions,
} from "./callback-handler.js";
export { createCallbackHandler } from "./callback-handler.js";
export type { CallbackHost, CallbackServer, CallbackServerOptions } from "./callback-server.js";
export { callbackOptionsFromRedirectUri, startCallbackServer } from "./callback-server.js";
export { NodeServerErrorCode } from "./errors.js";
export type {
  InteractiveLoginOptions,
  LoginCallbackOptions,
  LoginEvent,
  LoginMode,
} from "./login.js";
export { interactiveLogin } from "./login.js";
export type { ResultPageOptions } from "./pages.js";
