import {
  type ClientOptions,
  type Credentials,
  exchangeCode,
  beginAuthorization,
  LatchkeyError,
  type ServerMetadata,
} from "@latchkey/core";
import { type OpenBrowserOptions, openBrowser } from "./browser.js";
import { type CallbackServerOptions, startCallbackServer } from "./callback-server.js";
import type { ResultPageOptions } from "./pages.js";

/** What {@link loginWithBrowser} reports while it works, so that a CLI can print it. */
export type BrowserLoginEvent =
  | { type: "listening"; redirectUri: string }
  | {
      type: "authorization-url";
      /** Where the user must go. Holds `state`: show it only as the user's prompt, never in logs. */
      url: string;
      /** Whether latchkey will try to open a browser for it. */
      opening: boolean;
    }
  | { type: "browser-opened" }
  | { type: "browser-failed"; error: LatchkeyError }
  | { type: "callback-received" }
  | { type: "token-exchanged" };

/** Options of {@link loginWithBrowser}. */
export interface BrowserLoginOptions extends ResultPageOptions {
  /** The client. */
  client: ClientOptions;
  /** The authorization server (from core's `resolveServer`). */
  server: ServerMetadata;
  /** The callback server: host, port, path, request limit. */
  callback?: Pick<CallbackServerOptions, "host" | "port" | "path" | "maxRequests">;
  /** How long to wait for the user, in ms. Default 180 000 (S30). */
  timeoutMs?: number;
  /** Cancels the login and frees the port. */
  signal?: AbortSignal;
  /**
   * How to open the browser (S5): options for {@link openBrowser}, a function that opens a URL,
   * or `false` to only report the URL (`--no-browser`).
   */
  browser?: false | OpenBrowserOptions | ((url: string) => Promise<void>);
  /** Progress reports. */
  onEvent?: (event: BrowserLoginEvent) => void;
}

/**
 * One interactive login through the system browser: the loopback server listens first (S31),
 * then core builds the authorization URL for the port actually bound (S7), the browser opens (or
 * the URL is only reported), core validates the callback and exchanges the code. The port is
 * always closed afterwards (S23). A browser that fails to open does not end the login: the user
 * can still open the reported URL by hand.
 *
 * @example
 * ```ts
 * const credentials = await loginWithBrowser({ client, server, onEvent: (e) => {
 *   if (e.type === "authorization-url") console.error(`Open ${e.url}`);
 * }});
 * ```
 */
export async function loginWithBrowser(options: BrowserLoginOptions): Promise<Credentials> {
  const emit = options.onEvent ?? (() => undefined);
  const serverOptions: CallbackServerOptions = { ...options.callback };
  if (options.timeoutMs !== undefined) serverOptions.timeoutMs = options.timeoutMs;
  if (options.signal) serverOptions.signal = options.signal;
  if (options.endpointName !== undefined) serverOptions.endpointName = options.endpointName;
  if (options.successHtml !== undefined) serverOptions.successHtml = options.successHtml;
  if (options.failureHtml !== undefined) serverOptions.failureHtml = options.failureHtml;
  const callbackServer = await startCallbackServer(serverOptions);
  try {
    emit({ type: "listening", redirectUri: callbackServer.redirectUri });
    const { state, authorizationUrl } = await beginAuthorization({
      client: options.client,
      server: options.server,
      redirectUri: callbackServer.redirectUri,
    });
    const browser = options.browser ?? {};
    emit({ type: "authorization-url", url: authorizationUrl.href, opening: browser !== false });
    const waiting = callbackServer.waitForCallback(state);
    if (browser !== false) {
      try {
        if (typeof browser === "function") await browser(authorizationUrl.href);
        else await openBrowser(authorizationUrl.href, browser);
        emit({ type: "browser-opened" });
      } catch (error) {
        if (!(error instanceof LatchkeyError)) throw error;
        emit({ type: "browser-failed", error });
      }
    }
    const received = await waiting;
    emit({ type: "callback-received" });
    const exchangeOptions: Parameters<typeof exchangeCode>[1] = {
      client: options.client,
      server: options.server,
    };
    if (options.signal) exchangeOptions.signal = options.signal;
    const { credentials } = await exchangeCode(received, exchangeOptions);
    emit({ type: "token-exchanged" });
    return credentials;
  } finally {
    await callbackServer.close();
  }
}
