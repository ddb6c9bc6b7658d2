import type { ClientOptions, LatchkeyError, ServerMetadata } from "@latchkey/core";
import type { OpenBrowserOptions } from "./browser.js";
import type { CallbackServerOptions } from "./callback-server.js";
import type { ResultPageOptions } from "./pages.js";

// The events and options of the interactive logins (login.ts), apart so that the pieces of a
// login (paste-input.ts) can name them without importing the login itself.

/** The events of {@link interactiveLogin} that a loopback (browser or paste) login reports. */
export type LoopbackPromptEvent =
  | { type: "listening"; redirectUri: string }
  | {
      type: "authorization-url";
      /** Where the user must go. Holds `state`: show it only as the user's prompt, never in logs. */
      url: string;
      /** Whether latchkey will try to open a browser for it. */
      opening: boolean;
    }
  | { type: "browser-opened" };

/** How {@link interactiveLogin} reaches the user (CLI `--flow`). */
export type LoginMode = "auto" | "browser" | "paste" | "device";

/**
 * What {@link interactiveLogin} reports while it works. Libraries never print: the CLI turns
 * these into lines on stderr. Only `authorization-url.url` holds a secret-adjacent value
 * (`state`); it is meant for the user's prompt, never for logs (S42). Every string that came
 * from the authorization server is already escaped for a terminal (S50).
 */
export type LoginEvent =
  | {
      /** The mode in use; with `auto`, `reason` says why no browser is used. */
      type: "mode";
      mode: Exclude<LoginMode, "auto">;
      reason?: string;
    }
  | {
      /** Another login with the same issuer, client and request was running: this call shares it. */
      type: "joined";
    }
  | LoopbackPromptEvent
  | {
      /** The browser could not be opened (`BROWSER_FAILED`); the login goes on. */
      type: "browser-failed";
      error: LatchkeyError;
      /** Whether a pasted redirect address is now accepted as well. */
      pasteAccepted: boolean;
    }
  | {
      /** Ask the user to paste the address the browser ended on. */
      type: "paste-prompt";
      /** The redirect URI the pasted address starts with. */
      redirectUri: string;
      attempt: number;
      maxAttempts: number;
    }
  | {
      /** A paste was refused; `reason` says why (never echoes the paste). */
      type: "paste-rejected";
      reason: string;
      code: LatchkeyError["code"];
      attemptsLeft: number;
    }
  | {
      /** Device flow: what the user must enter where (escaped for the terminal, S50). */
      type: "device-code";
      userCode: string;
      verificationUri: string;
      /** The address with the code in it, when the server gave one. */
      verificationUriComplete?: string;
      /** When the code expires, ms since the epoch. */
      expiresAt: number;
      /** Whether latchkey will try to open a browser on it. */
      opening: boolean;
    }
  | { type: "device-poll"; attempt: number; interval: number }
  | { type: "callback-received"; via: "loopback" | "paste" }
  | { type: "token-exchanged" };

/** The callback server options a login passes through. */
export type LoginCallbackOptions = Pick<
  CallbackServerOptions,
  "host" | "port" | "path" | "maxRequests"
>;

/** Options of {@link interactiveLogin}. */
export interface InteractiveLoginOptions extends ResultPageOptions {
  /** The client. */
  client: ClientOptions;
  /** The authorization server (from core's `resolveServer`). */
  server: ServerMetadata;
  /** The callback server: host, port (or list), path, request limit. */
  callback?: LoginCallbackOptions;
  /** How long to wait for the user, in ms. Default 180 000 (S30). */
  timeoutMs?: number;
  /** Cancels the login and frees the port. */
  signal?: AbortSignal;
  /**
   * How to open the browser (S5): options for {@link openBrowser}, a function that opens a URL,
   * or `false` to only report the URL (`--no-browser`).
   */
  browser?: false | OpenBrowserOptions | ((url: string) => Promise<void>);
  /**
   * `auto` (default): the browser when one can be opened, else the device flow when the server
   * offers it, else paste. `browser`: loopback callback + browser. `paste`: loopback callback +
   * a pasted redirect address. `device`: RFC 8628.
   */
  mode?: LoginMode;
  /**
   * Where pasted redirect addresses are read from, one per line. Default `process.stdin` in
   * paste mode; after a browser failure, `process.stdin` only when it is a terminal.
   */
  input?: NodeJS.ReadableStream;
  /** How many pastes may be refused before the login fails. Default 3. */
  maxPasteAttempts?: number;
  /** Device flow: waits between polls (abortable); injectable for tests. Default a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Share one login among concurrent calls for the same issuer, client and request (scopes,
   * audience, resources) in this process. Default true.
   */
  singleFlight?: boolean;
  /** Progress reports. */
  onEvent?: (event: LoginEvent) => void;
}
