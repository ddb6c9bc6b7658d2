// The public surface of @latchkey/node-server, read from its build (scripts/api-surface.mjs). The
// pages, terminal escaping and browser resolution are internal; a name exported by mistake fails
// here. Adding a public name means adding it below, on purpose, with its TSDoc.
import { testPublicApi } from "@latchkey/test-utils";

testPublicApi(new URL("..", import.meta.url), {
  ".": {
    runtime: [
      "NodeServerErrorCode",
      "browserUnavailableReason",
      "callbackOptionsFromRedirectUri",
      "createCallbackHandler",
      "interactiveLogin",
      "openBrowser",
      "splitCommand",
      "startCallbackServer",
    ],
    types: [
      "CallbackHandler",
      "CallbackHandlerOptions",
      "CallbackHost",
      "CallbackServer",
      "CallbackServerOptions",
      "InteractiveLoginOptions",
      "LoginCallbackOptions",
      "LoginEvent",
      "LoginMode",
      "OpenBrowserOptions",
      "ResultPageOptions",
    ],
  },
});
