import { type Credentials, clientCredentialsGrant } from "@latchkey/core";
import {
  browserUnavailableReason,
  type InteractiveLoginOptions,
  interactiveLogin,
  type LoginEvent,
} from "@latchkey/node-server";
import { runTokenCommand } from "./command-flow.js";
import type { Context, Opener, Session } from "./session.js";

// Everything a login needs, loaded only when one happens (a valid stored token needs none of it).
export { resolveServer, revokeCredentials } from "@latchkey/core";
export { browserUnavailableReason };

function events(
  ctx: Context,
  host: string,
  headless: boolean,
): { onEvent: (event: LoginEvent) => void; stop: () => void } {
  let stopProgress = (): void => undefined;
  const waiting = (text: string): void => {
    stopProgress();
    stopProgress = ctx.out.progress(text);
  };
  const onEvent = (event: LoginEvent): void => {
    switch (event.type) {
      case "mode":
        if (event.reason)
          ctx.out.info(
            `${event.reason[0]?.toUpperCase() ?? ""}${event.reason.slice(1)}; using the ${event.mode} flow.`,
          );
        ctx.out.debug(`flow: ${event.mode}`);
        return;
      case "joined":
        ctx.out.debug("joined a login already running in this process");
        return;
      case "listening":
        ctx.out.debug(`callback server listening on ${event.redirectUri}`);
        return;
      case "authorization-url":
        ctx.out.prompt(
          headless
            ? `Following the login URL headlessly for ${host}:`
            : event.opening
              ? `Opening a browser to log in to ${host}. If none opens, visit:`
              : `To log in to ${host}, open this URL in a browser:`,
        );
        ctx.out.prompt(`  ${event.url}`);
        waiting("Waiting for the browser to finish the login (Ctrl-C to cancel)…");
        return;
      case "browser-opened":
        ctx.out.debug("browser started");
        return;
      case "browser-failed":
        ctx.out.warn(
          `${event.error.message} Open the URL above by hand${event.pasteAccepted ? ", or paste the address your browser ends on here" : ""}.`,
        );
        return;
      case "paste-prompt":
        stopProgress();
        ctx.out.prompt(
          `After logging in, your browser ends on a page that may fail to load (${event.redirectUri}...). Paste that page's full address here and press Enter${event.attempt > 1 ? ` (attempt ${event.attempt} of ${event.maxAttempts})` : ""}:`,
        );
        return;
      case "paste-rejected":
        ctx.out.warn(
          `${event.reason}${event.attemptsLeft ? ` Try again (${event.attemptsLeft} left).` : ""}`,
        );
        return;
      case "device-code":
        ctx.out.prompt(`To log in to ${host}, visit ${event.verificationUri}`);
        ctx.out.prompt(`and enter the code: ${event.userCode}`);
        if (event.verificationUriComplete)
          ctx.out.prompt(
            `(or open ${event.verificationUriComplete}${event.opening ? ", opening it now" : ""})`,
          );
        waiting("Waiting for the login to be approved (Ctrl-C to cancel)…");
        return;
      case "device-poll":
        ctx.out.debug(`device poll ${event.attempt} (interval ${event.interval} s)`);
        return;
      case "callback-received":
        stopProgress();
        ctx.out.debug(`authorization response received (${event.via}); exchanging the code`);
        return;
      case "token-exchanged":
        stopProgress();
        ctx.out.debug("token endpoint answered");
        return;
      default: {
        const unreachable: never = event;
        void unreachable;
      }
    }
  };
  return { onEvent, stop: () => stopProgress() };
}

/** An interactive login: browser, paste or device, as `--flow` says (`auto` chooses, docs/cli.md). */
export async function interactive(
  session: Session,
  ctx: Context,
  mode: "auto" | "browser" | "paste" | "device",
  opener?: Opener,
): Promise<Credentials> {
  const { config } = session;
  const server = await session.server();
  let browser: Opener;
  if (opener !== undefined) browser = opener;
  else if (!config.openBrowser) browser = false;
  else if (config.browserCommand !== undefined) browser = { command: config.browserCommand };
  else browser = {};
  const host = new URL(server.issuer).host;
  const { onEvent, stop } = events(ctx, host, typeof browser === "function");
  const options: InteractiveLoginOptions = {
    mode,
    client: config.client,
    server,
    callback: config.redirect,
    timeoutMs: config.timeoutMs,
    signal: ctx.signal,
    browser:
      typeof browser === "object" && browser !== null ? { ...browser, env: ctx.env } : browser,
    endpointName: host,
    onEvent,
  };
  if (ctx.stdin) options.input = ctx.stdin;
  try {
    return await interactiveLogin(options);
  } finally {
    stop();
  }
}

/** Obtains new credentials by the configured flow. */
export async function obtain(session: Session, ctx: Context): Promise<Credentials> {
  const { config } = session;
  switch (config.flow) {
    case "client-credentials":
      return clientCredentialsGrant({
        client: config.client,
        server: await session.server(),
        signal: ctx.signal,
      });
    case "command":
      return runTokenCommand(config.command as string, {
        key: config.key,
        signal: ctx.signal,
        timeoutMs: config.timeoutMs,
      });
    case "auto":
      // --no-browser: print the URL and wait for the loopback callback (or a paste), as docs/cli.md says.
      return interactive(session, ctx, config.openBrowser ? "auto" : "browser");
    case "browser":
    case "paste":
    case "device":
      return interactive(session, ctx, config.flow);
    default: {
      const unreachable: never = config.flow;
      return unreachable;
    }
  }
}
