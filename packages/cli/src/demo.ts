import { ConfigurationError, ErrorCode } from "@latchkey/core/store";
import { MemoryTokenStore } from "@latchkey/keyring-store";
import { resolveConfig } from "./config.js";
import { printable } from "./output.js";
import { type Context, lazyServer, type Opener, type Session, summaryOf } from "./session.js";
import { formatSummary } from "./summary.js";

/** The flags `latchkey demo` takes: how it shows itself, nothing that points it elsewhere. */
export interface DemoFlags {
  json?: boolean;
  browserCommand?: string;
  browser?: boolean;
}

/**
 * `latchkey demo`: a real login against an embedded fake authorization server. Hermetic: no
 * config file, no `LATCHKEY_*` variable, no profile and no store of the user's are read or
 * written, whatever they hold; the login goes to the embedded server only, its result to memory.
 * Only the demo's own presentation flags count (`--json`, `-v`, `-q`, `--browser-command`,
 * `--no-browser`); `$BROWSER` and the display still say how a browser opens.
 */
export async function runDemo(flags: DemoFlags, _command: unknown, ctx: Context): Promise<void> {
  const { startFakeAuthorizationServer, followLoginRedirects } = await loadFakeServer();
  const idp = await startFakeAuthorizationServer({});
  try {
    ctx.out.info(
      `Started a fake authorization server at ${idp.issuer} (it approves every login as "alice").`,
    );
    const config = await resolveConfig({
      issuer: idp.issuer,
      clientId: "latchkey",
      scope: ["openid", "profile"],
      store: "memory",
      ...(flags.browserCommand === undefined ? {} : { browserCommand: flags.browserCommand }),
      ...(flags.browser === false ? { browser: false } : {}),
    });
    const session: Session = {
      config,
      store: new MemoryTokenStore(),
      server: lazyServer(config, ctx),
      lock: undefined,
    };
    ctx.out.debug("demo: the embedded server, a memory store; no config, profile or LATCHKEY_*");
    const { browserUnavailableReason, interactive } = await import("./flows.js");
    let opener: Opener | undefined;
    const reason =
      config.browserCommand === undefined ? browserUnavailableReason({ env: ctx.env }) : undefined;
    if (config.openBrowser && reason) {
      ctx.out.info(
        `No browser can be opened here (${reason}); completing the demo login headlessly.`,
      );
      opener = async (url) => {
        void followLoginRedirects(url).catch((error: unknown) =>
          ctx.out.warn(`headless login failed: ${printable(String(error))}`),
        );
      };
    }
    const credentials = await interactive(session, ctx, "browser", opener);
    await session.store.set(config.key, credentials);
    const summary = summaryOf(session, await session.store.get(config.key));
    ctx.out.data(flags.json ? JSON.stringify(summary) : formatSummary(summary));
  } finally {
    await idp.close();
  }
}

/**
 * `@latchkey/testing`, which only the demo needs: an optional peer of the CLI, so an install of
 * `@latchkey/cli` alone lacks it. Missing, it is a coded configuration error (exit 2), not a stack.
 */
async function loadFakeServer(): Promise<typeof import("@latchkey/testing")> {
  try {
    return await import("@latchkey/testing");
  } catch (error) {
    // Only the package itself missing; a broken install of it (a dependency gone) stays loud.
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const missing = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
    if (!missing || !String(message).includes("'@latchkey/testing'")) throw error;
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "latchkey demo needs @latchkey/testing, which is not installed: install it next to the CLI, e.g. npm i -g @latchkey/testing",
    );
  }
}
