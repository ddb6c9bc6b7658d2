// The public surface of @latchkey/node-server, read from its build (scripts/api-surface.mjs). The
// pages, terminal escaping and browser resolution are internal; a name exported by mistake fails
// here. Adding a public name means adding it below, on purpose, with its TSDoc.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { publicApi } from "../../../scripts/api-surface.mjs";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("public API", () => {
  it("each entry of the build exports exactly the intended names", async () => {
    expect(await publicApi(packageDir)).toEqual({
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
  });
});
