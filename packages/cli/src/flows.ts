import {
  type Credentials,
  clientCredentialsGrant,
  pollDeviceAuthorization,
  startDeviceAuthorization,
} from "@latchkey/core";
import {
  type BrowserLoginEvent,
  browserUnavailableReason,
  loginWithBrowser,
  openBrowser,
} from "@latchkey/node-server";
import { runTokenCommand } from "./command-flow.js";
import type { Context, Opener, Session } from "./main.js";
import { printable } from "./output.js";

// Everything a login needs, loaded only when one happens (a valid stored token needs none of it).
export { resolveServer, revokeToken } from "@latchkey/core";
export { browserUnavailableReason };

function loginEvents(
  ctx: Context,
  host: string,
  headless: boolean,
  stopProgress: { stop: () => void },
): (event: BrowserLoginEvent) => void {
  return (event) => {
    switch (event.type) {
      case "listening":
        ctx.out.debug(`callback server listening on ${event.redirectUri}`);
        return;
      case "authorization-url":
        ctx.out.prompt(
          headless
            ? `Following the login URL headlessly for ${host}:`
            : event.opening
              ? `Opening a browser to log in to ${host}. If none opens, visit:`
              : `To log in to ${host}, open this URL in a browser on this machine:`,
        );
        ctx.out.prompt(`  ${event.url}`);
        stopProgress.stop = ctx.out.progress(
          "Waiting for the browser to finish the login (Ctrl-C to cancel)…",
        );
        return;
      case "browser-opened":
        ctx.out.debug("browser started");
        return;
      case "browser-failed":
        ctx.out.warn(`${event.error.message} Open the URL above by hand.`);
        return;
      case "callback-received":
        stopProgress.stop();
        ctx.out.debug("callback received; exchanging the code");
        return;
      case "token-exchanged":
        ctx.out.debug("token endpoint answered");
        return;
      default: {
        const unreachable: never = event;
        return unreachable;
      }
    }
  };
}

export async function browserLogin(
  session: Session,
  ctx: Context,
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
  const progress = { stop: (): void => undefined };
  try {
    return await loginWithBrowser({
      client: config.client,
      server,
      callback: config.redirect,
      timeoutMs: config.timeoutMs,
      signal: ctx.signal,
      browser,
      endpointName: host,
      onEvent: loginEvents(ctx, host, typeof browser === "function", progress),
    });
  } finally {
    progress.stop();
  }
}

async function deviceLogin(session: Session, ctx: Context): Promise<Credentials> {
  const { config } = session;
  const server = await session.server();
  const authorization = await startDeviceAuthorization({
    client: config.client,
    server,
    signal: ctx.signal,
  });
  ctx.out.prompt(
    `To log in to ${new URL(server.issuer).host}, visit ${printable(authorization.verificationUri)}`,
  );
  ctx.out.prompt(`and enter the code: ${printable(authorization.userCode)}`);
  if (authorization.verificationUriComplete) {
    ctx.out.prompt(`(or open ${printable(authorization.verificationUriComplete)})`);
    const canOpen =
      config.openBrowser &&
      (config.browserCommand !== undefined || !browserUnavailableReason({ env: ctx.env }));
    if (canOpen) {
      await openBrowser(
        authorization.verificationUriComplete,
        config.browserCommand === undefined
          ? { env: ctx.env }
          : { command: config.browserCommand, env: ctx.env },
      ).catch((error: unknown) =>
        ctx.out.warn(
          `${error instanceof Error ? error.message : "The browser failed."} Open the address above by hand.`,
        ),
      );
    }
  }
  const stop = ctx.out.progress("Waiting for the login to be approved (Ctrl-C to cancel)…");
  try {
    return await pollDeviceAuthorization(authorization, {
      client: config.client,
      server,
      signal: ctx.signal,
      onPoll: ({ attempt, interval }) =>
        ctx.out.debug(`device poll ${attempt} (interval ${interval} s)`),
    });
  } finally {
    stop();
  }
}

/** Obtains new credentials by the configured flow (`auto` chooses as CLI.md says). */
export async function obtain(
  session: Session,
  ctx: Context,
  opener?: Opener,
): Promise<Credentials> {
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
    case "device":
      return deviceLogin(session, ctx);
    case "browser":
      return browserLogin(session, ctx, opener);
    case "paste":
      return browserLogin(session, ctx, false);
    case "auto": {
      if (opener !== undefined || !config.openBrowser || config.browserCommand !== undefined)
        return browserLogin(session, ctx, opener);
      const reason = browserUnavailableReason({ env: ctx.env });
      if (!reason) return browserLogin(session, ctx);
      const server = await session.server();
      if (server.device_authorization_endpoint) {
        ctx.out.info(`No browser can be opened here (${reason}); using the device flow.`);
        return deviceLogin(session, ctx);
      }
      ctx.out.info(`No browser can be opened here (${reason}).`);
      return browserLogin(session, ctx, false);
    }
    default: {
      const unreachable: never = config.flow;
      return unreachable;
    }
  }
}
