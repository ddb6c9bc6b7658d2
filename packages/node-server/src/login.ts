import {
  beginAuthorization,
  type CodeReceivedState,
  type Credentials,
  ErrorCode,
  exchangeCode,
  LatchkeyError,
  pollDeviceAuthorization,
  startDeviceAuthorization,
  TransportError,
} from "@latchkey/core";
import { singleFlight, startTimer } from "@latchkey/core/async";
import { browserUnavailableReason, openBrowser } from "./browser.js";
import { type CallbackServerOptions, startCallbackServer } from "./callback-server.js";
import type { InteractiveLoginOptions, LoginEvent, LoginMode } from "./login-types.js";
import { readPastes } from "./paste-input.js";
import { escapeTerminal } from "./terminal.js";

export type {
  InteractiveLoginOptions,
  LoginCallbackOptions,
  LoginEvent,
  LoginMode,
} from "./login-types.js";

type Opener = NonNullable<InteractiveLoginOptions["browser"]>;

function open(browser: Exclude<Opener, false>, url: string): Promise<void> {
  return typeof browser === "function" ? browser(url) : openBrowser(url, browser);
}

function serverOptions(options: InteractiveLoginOptions): CallbackServerOptions {
  const result: CallbackServerOptions = { ...options.callback };
  if (options.timeoutMs !== undefined) result.timeoutMs = options.timeoutMs;
  if (options.signal) result.signal = options.signal;
  if (options.endpointName !== undefined) result.endpointName = options.endpointName;
  if (options.successHtml !== undefined) result.successHtml = options.successHtml;
  if (options.failureHtml !== undefined) result.failureHtml = options.failureHtml;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Paste

interface CodePlan {
  /** Open the browser on the authorization URL. */
  open: boolean;
  /** When pasted redirect addresses are read. */
  paste: "now" | "on-browser-failure";
}

function pasteInput(
  options: InteractiveLoginOptions,
  plan: CodePlan,
): NodeJS.ReadableStream | undefined {
  if (options.input) return options.input;
  if (plan.paste === "now") return process.stdin;
  if (plan.paste === "on-browser-failure" && process.stdin.isTTY) return process.stdin;
  return undefined;
}

async function codeLogin(options: InteractiveLoginOptions, plan: CodePlan): Promise<Credentials> {
  const emit = options.onEvent ?? (() => undefined);
  const callbackServer = await startCallbackServer(serverOptions(options));
  const stop = new AbortController();
  const outcome: { via: "loopback" | "paste" } = { via: "loopback" };
  try {
    emit({ type: "listening", redirectUri: callbackServer.redirectUri });
    const beginOptions: Parameters<typeof beginAuthorization>[0] = {
      client: options.client,
      server: options.server,
      redirectUri: callbackServer.redirectUri,
    };
    if (options.signal) beginOptions.signal = options.signal;
    const { state, authorizationUrl } = await beginAuthorization(beginOptions);
    const browser = options.browser ?? {};
    const opening = plan.open && browser !== false;
    emit({ type: "authorization-url", url: authorizationUrl.href, opening });
    const input = pasteInput(options, plan);
    const maxAttempts = Math.max(1, options.maxPasteAttempts ?? 3);

    const received = await new Promise<CodeReceivedState>((resolve, reject) => {
      let settled = false;
      const win = (next: CodeReceivedState, how: "loopback" | "paste"): void => {
        if (settled) return;
        settled = true;
        outcome.via = how;
        resolve(next);
      };
      const lose = (error: unknown): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      callbackServer.waitForCallback(state).then((next) => win(next, "loopback"), lose);
      let pasting = false;
      const startPasting = (eofFails: boolean): boolean => {
        if (pasting || !input) return false;
        pasting = true;
        readPastes({ input, state, maxAttempts, emit, stop: stop.signal, eofFails }).then(
          (next) => {
            if (next) win(next, "paste");
          },
          lose,
        );
        return true;
      };
      if (plan.paste === "now") startPasting(true);
      if (opening) {
        Promise.resolve()
          .then(() => open(browser, authorizationUrl.href))
          .then(
            () => {
              if (!settled) emit({ type: "browser-opened" });
            },
            (error: unknown) => {
              if (settled) return;
              if (!(error instanceof LatchkeyError)) {
                lose(error);
                return;
              }
              const fallback = plan.paste === "on-browser-failure" && input !== undefined;
              emit({ type: "browser-failed", error, pasteAccepted: pasting || fallback });
              if (fallback) startPasting(false);
            },
          );
      }
    });
    stop.abort();
    emit({ type: "callback-received", via: outcome.via });
    const exchangeOptions: Parameters<typeof exchangeCode>[1] = {
      client: options.client,
      server: options.server,
    };
    if (options.signal) exchangeOptions.signal = options.signal;
    const { credentials } = await exchangeCode(received, exchangeOptions);
    emit({ type: "token-exchanged" });
    return credentials;
  } finally {
    stop.abort();
    await callbackServer.close(outcome.via === "paste" ? { graceMs: 0 } : {});
  }
}

// ---------------------------------------------------------------------------------------------
// Device flow

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

async function deviceLogin(
  options: InteractiveLoginOptions,
  openIt: boolean,
): Promise<Credentials> {
  const emit = options.onEvent ?? (() => undefined);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const stopTimer =
    options.timeoutMs === undefined
      ? undefined
      : startTimer(options.timeoutMs, () => {
          timedOut = true;
          controller.abort();
        });
  const grant = { client: options.client, server: options.server, signal: controller.signal };
  try {
    const authorization = await startDeviceAuthorization(grant);
    const browser = options.browser ?? {};
    const target = authorization.verificationUriComplete ?? authorization.verificationUri;
    // Only a web address is ever handed to the opener: never file:, javascript: or a command.
    const opening = openIt && browser !== false && isWebUrl(target);
    const event: LoginEvent = {
      type: "device-code",
      userCode: escapeTerminal(authorization.userCode),
      verificationUri: escapeTerminal(authorization.verificationUri),
      expiresAt: authorization.expiresAt,
      opening,
    };
    if (authorization.verificationUriComplete !== undefined)
      event.verificationUriComplete = escapeTerminal(authorization.verificationUriComplete);
    emit(event);
    if (opening) {
      try {
        await open(browser, target);
        emit({ type: "browser-opened" });
      } catch (error) {
        if (!(error instanceof LatchkeyError)) throw error;
        emit({ type: "browser-failed", error, pasteAccepted: false });
      }
    }
    const pollOptions: Parameters<typeof pollDeviceAuthorization>[1] = {
      ...grant,
      onPoll: ({ attempt, interval }) => emit({ type: "device-poll", attempt, interval }),
    };
    if (options.sleep) pollOptions.sleep = options.sleep;
    const credentials = await pollDeviceAuthorization(authorization, pollOptions);
    emit({ type: "token-exchanged" });
    return credentials;
  } catch (error) {
    // Whatever the poller or an injected sleep threw once our signal fired, say why it fired.
    if (timedOut) {
      throw new TransportError(
        ErrorCode.TIMEOUT,
        `The device login was not approved within ${Math.round((options.timeoutMs ?? 0) / 1000)} s.`,
        { cause: error },
      );
    }
    if (options.signal?.aborted && !(error instanceof LatchkeyError)) {
      throw new TransportError(ErrorCode.ABORTED, "The device login was cancelled.", {
        cause: error,
      });
    }
    throw error;
  } finally {
    stopTimer?.();
    options.signal?.removeEventListener("abort", onAbort);
  }
}

// ---------------------------------------------------------------------------------------------
// The entry point

/** What {@link chooseLoginMode} decided. */
export interface LoginModeChoice {
  /** The mode to run. */
  mode: Exclude<LoginMode, "auto">;
  /** With `auto`, why no browser is used (none can be opened, or opening is turned off). */
  reason?: string;
}

/**
 * The mode {@link interactiveLogin} runs: an explicit mode as is; `auto` picks the browser when
 * one can be opened, else the device flow when the server has a device authorization endpoint,
 * else paste (docs/cli.md `--flow auto`).
 */
export function chooseLoginMode(
  options: Pick<InteractiveLoginOptions, "mode" | "browser" | "server">,
): LoginModeChoice {
  const mode = options.mode ?? "auto";
  if (mode !== "auto") return { mode };
  const browser = options.browser ?? {};
  const reason =
    browser === false
      ? "opening a browser is turned off"
      : typeof browser === "function"
        ? undefined
        : browserUnavailableReason(browser);
  if (reason === undefined) return { mode: "browser" };
  if (options.server.device_authorization_endpoint) return { mode: "device", reason };
  return { mode: "paste", reason };
}

const inFlight = new Map<string, Promise<Credentials>>();

function flightKey(options: InteractiveLoginOptions): string {
  const c = options.client;
  return JSON.stringify([
    options.server.issuer,
    c.clientId,
    c.scopes ?? [],
    c.audience ?? null,
    c.resource ?? [],
  ]);
}

function joinWithSignal(
  shared: Promise<Credentials>,
  signal: AbortSignal | undefined,
): Promise<Credentials> {
  if (!signal) return shared;
  return new Promise((resolve, reject) => {
    const onAbort = (): void =>
      reject(new TransportError(ErrorCode.ABORTED, "The login was cancelled."));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    shared.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Logs the user in interactively, whichever way reaches them: the system browser with a loopback
 * callback, a pasted redirect address (remote machines), or the device flow
 * ({@link https://www.rfc-editor.org/rfc/rfc8628 | RFC 8628}). `auto` picks the browser when one
 * can be opened, else the device flow when the server offers it, else paste; the first event,
 * `mode`, says which and why. Concurrent calls for the same issuer, client and request
 * share one login (one browser, one port); a joining call's own `signal` only stops its wait.
 *
 * - browser: listens first, opens the browser, waits for the callback; when the browser fails to
 *   open and an input is available, a pasted redirect address is accepted too.
 * - paste: listens too (a browser on this machine still completes the login by itself), reports
 *   the URL, and reads pasted redirect addresses (judged by `judgePastedCallback` of
 *   `@latchkey/core/callback`), refusing up to `maxPasteAttempts` wrong ones.
 * - device: reports the user code and verification address (escaped, S50), opens the browser on
 *   `verification_uri_complete` when one can be opened, and polls with core (S48, S49). The
 *   timeout is `timeoutMs` when given, else the device code's lifetime.
 *
 * The credentials are returned, not stored: persist them (or pass this as `getAccessToken`'s
 * `login`).
 *
 * @throws `LatchkeyError` `PORT_IN_USE`; core's `TransportError` `TIMEOUT` or `ABORTED` (the port
 * is freed), `ProtocolError` from the callback or the token endpoint (`AUTHORIZATION_DENIED`,
 * `INVALID_GRANT`, `INVALID_ID_TOKEN`, ...; after `maxPasteAttempts` refused pastes the last
 * refusal's `STATE_MISMATCH` or `CALLBACK_INVALID`; `CALLBACK_INVALID` when the input ends),
 * `ConfigurationError` `CONFIG_INVALID`. A browser that fails to open does not end the
 * login (`browser-failed` event).
 *
 * @example
 * ```ts
 * const credentials = await interactiveLogin({
 *   client, server, mode: "auto", timeoutMs: 180_000, signal,
 *   onEvent: (e) => { if (e.type === "device-code") showPrompt(`Enter ${e.userCode} at ${e.verificationUri}`); },
 * });
 * ```
 */
export function interactiveLogin(options: InteractiveLoginOptions): Promise<Credentials> {
  if (options.singleFlight === false) return runLogin(options);
  const key = flightKey(options);
  const running = inFlight.get(key);
  if (running) {
    options.onEvent?.({ type: "joined" });
    return joinWithSignal(running, options.signal);
  }
  return singleFlight(inFlight, key, () => runLogin(options));
}

async function runLogin(options: InteractiveLoginOptions): Promise<Credentials> {
  const choice = chooseLoginMode(options);
  const event: LoginEvent = { type: "mode", mode: choice.mode };
  if (choice.reason !== undefined) event.reason = choice.reason;
  options.onEvent?.(event);
  switch (choice.mode) {
    case "browser":
      return codeLogin(options, { open: true, paste: "on-browser-failure" });
    case "paste":
      return codeLogin(options, { open: false, paste: "now" });
    case "device":
      return deviceLogin(options, options.mode === "device");
    default: {
      const unreachable: never = choice.mode;
      throw new LatchkeyError(
        ErrorCode.CONFIG_INVALID,
        `Unknown login mode "${String(unreachable)}".`,
      );
    }
  }
}
