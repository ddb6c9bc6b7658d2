import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { release } from "node:os";
import { isAbsolute, join, delimiter as posixDelimiter } from "node:path";
import { ConfigurationError, ErrorCode, LatchkeyError } from "@latchkey/core";
import { startTimer } from "@latchkey/core/async";
import { NodeServerErrorCode } from "./errors.js";

/** Options of {@link openBrowser}, {@link resolveBrowser} and {@link browserUnavailableReason}. */
export interface OpenBrowserOptions {
  /**
   * The command that opens a URL, as a string split into words (quotes group words; no shell)
   * or as an argument vector. The URL is appended as the last argument. Default: `$BROWSER`,
   * else the platform's opener (see {@link resolveBrowser}).
   */
  command?: string | readonly string[];
  /** The environment to read `$BROWSER`, `$DISPLAY`, `$SSH_CONNECTION`, `$PATH` from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The platform. Default `process.platform`. */
  platform?: NodeJS.Platform;
  /**
   * Whether this is Windows Subsystem for Linux. Default: detected from `$WSL_DISTRO_NAME` and
   * `$WSL_INTEROP`, and from the kernel release when `env` is this process's own.
   */
  wsl?: boolean;
  /**
   * Whether this runs in a container (only changes the wording of the reason). Default: detected
   * from `$container` and `$KUBERNETES_SERVICE_HOST`, and from `/.dockerenv` and
   * `/run/.containerenv` when `env` is this process's own.
   */
  container?: boolean;
  /** Finds a program on `$PATH`; injectable for tests. Default: a `$PATH` search for an executable file. */
  findExecutable?: (name: string) => string | undefined;
  /**
   * How long to watch the opener after it started, in ms: a non-zero exit within this window
   * (xdg-open without a handler, say) is `BROWSER_FAILED`. Default 1500; 0 does not wait.
   */
  failWindowMs?: number;
}

/** How a URL would be opened, or why it cannot be: the answer of {@link resolveBrowser}. */
export type BrowserResolution =
  | {
      available: true;
      /** The opener's argument vector; the URL is appended (or replaces a `%s` word from `$BROWSER`). */
      argv: readonly string[];
      /** Where it came from. */
      source: "command" | "BROWSER" | "wsl" | "platform";
    }
  | {
      available: false;
      /** Why no browser can be opened here, for the user (e.g. "this is an SSH session ..."). */
      reason: string;
    };

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && value !== "";
}

function defaultFindExecutable(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform,
): (name: string) => string | undefined {
  return (name) => {
    const candidates: string[] = [];
    const extensions =
      platform === "win32" ? ["", ...(env.PATHEXT ?? ".EXE;.CMD;.BAT;.COM").split(";")] : [""];
    if (isAbsolute(name) || name.includes("/")) {
      candidates.push(name);
    } else {
      const delimiter = platform === "win32" ? ";" : posixDelimiter;
      for (const dir of (env.PATH ?? env.Path ?? "").split(delimiter)) {
        if (dir) for (const ext of extensions) candidates.push(join(dir, name + ext));
      }
    }
    for (const candidate of candidates) {
      try {
        accessSync(candidate, platform === "win32" ? constants.F_OK : constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
    return undefined;
  };
}

function detectWsl(env: Readonly<Record<string, string | undefined>>, real: boolean): boolean {
  if (isTruthy(env.WSL_DISTRO_NAME) || isTruthy(env.WSL_INTEROP)) return true;
  return real && /microsoft/i.test(release());
}

function detectContainer(
  env: Readonly<Record<string, string | undefined>>,
  real: boolean,
): boolean {
  if (isTruthy(env.container) || isTruthy(env.KUBERNETES_SERVICE_HOST)) return true;
  return real && (existsSync("/.dockerenv") || existsSync("/run/.containerenv"));
}

function isSsh(env: Readonly<Record<string, string | undefined>>): boolean {
  return isTruthy(env.SSH_CONNECTION) || isTruthy(env.SSH_CLIENT) || isTruthy(env.SSH_TTY);
}

/**
 * Decides how a URL would be opened here, without opening anything (S5):
 * 1. an explicit `command`;
 * 2. `$BROWSER` (a list separated by the path delimiter, the first entry found on `$PATH`
 *    wins; a `%s` word is replaced by the URL);
 * 3. macOS `open`, Windows `rundll32 url.dll,FileProtocolHandler` (no `cmd.exe`: it would
 *    parse the `&` of the URL as a command separator), WSL `wslview`, else the Windows
 *    `rundll32.exe` or `explorer.exe` through interop;
 * 4. elsewhere `xdg-open`, when there is a display (`$DISPLAY` / `$WAYLAND_DISPLAY`).
 *
 * Unavailable: an SSH session (a browser would open on the remote machine, or nowhere), Linux
 * without a display (a container, a server), no opener installed.
 */
export function resolveBrowser(options: OpenBrowserOptions = {}): BrowserResolution {
  if (options.command !== undefined) {
    const argv =
      typeof options.command === "string" ? splitCommand(options.command) : [...options.command];
    if (argv.length === 0 || !argv[0]) {
      throw new ConfigurationError(ErrorCode.CONFIG_INVALID, "The browser command is empty.");
    }
    return { available: true, argv, source: "command" };
  }
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const find = options.findExecutable ?? defaultFindExecutable(env, platform);
  if (isTruthy(env.BROWSER)) {
    const entries = (env.BROWSER as string)
      .split(platform === "win32" ? ";" : ":")
      .map((entry) => entry.trim())
      .filter(Boolean);
    const usable =
      entries.find((entry) => {
        const program = splitCommand(entry)[0];
        return program !== undefined && find(program) !== undefined;
      }) ?? entries[0];
    if (usable !== undefined) {
      const argv = splitCommand(usable);
      if (argv.length > 0) return { available: true, argv, source: "BROWSER" };
    }
  }
  const ssh = isSsh(env);
  switch (platform) {
    case "darwin":
      return ssh
        ? {
            available: false,
            reason:
              "this is an SSH session: a browser would open on the remote Mac, not in front of you",
          }
        : { available: true, argv: ["open"], source: "platform" };
    case "win32":
      return ssh
        ? {
            available: false,
            reason:
              "this is an SSH session: a browser would open on the remote machine, not in front of you",
          }
        : {
            available: true,
            argv: ["rundll32", "url.dll,FileProtocolHandler"],
            source: "platform",
          };
    default:
      break;
  }
  // The kernel release and marker files describe this machine: consult them only when the
  // environment is this process's own (not one a test made up).
  const real = options.env === undefined || options.env === process.env;
  const wsl = options.wsl ?? (platform === "linux" && detectWsl(env, real));
  if (wsl) {
    if (find("wslview")) return { available: true, argv: ["wslview"], source: "wsl" };
    if (find("rundll32.exe"))
      return {
        available: true,
        argv: ["rundll32.exe", "url.dll,FileProtocolHandler"],
        source: "wsl",
      };
    if (find("explorer.exe")) return { available: true, argv: ["explorer.exe"], source: "wsl" };
    return {
      available: false,
      reason: "this is WSL without wslview and without Windows interop on $PATH",
    };
  }
  const display = isTruthy(env.DISPLAY) || isTruthy(env.WAYLAND_DISPLAY);
  if (!display) {
    if (ssh) {
      return {
        available: false,
        reason: "this is an SSH session without a display: a browser here would not reach you",
      };
    }
    const container = options.container ?? detectContainer(env, real);
    return {
      available: false,
      reason: container
        ? "this looks like a container without a graphical display"
        : "there is no graphical display ($DISPLAY is not set)",
    };
  }
  if (!find("xdg-open")) {
    return { available: false, reason: "xdg-open is not installed" };
  }
  return { available: true, argv: ["xdg-open"], source: "platform" };
}

/**
 * Why no browser can be opened, or `undefined` when one probably can: with the same options,
 * {@link openBrowser} would find a program to start. The reasons are sentences for the user (an
 * SSH session without a display, no `$DISPLAY`/`$WAYLAND_DISPLAY`, no `xdg-open`, ...). Never
 * throws: a malformed `command` is reported by {@link openBrowser} instead.
 *
 * @example
 * ```ts
 * const why = browserUnavailableReason();
 * if (why !== undefined) showToUser(`Not opening a browser: ${why}. Open this address yourself:`);
 * ```
 */
export function browserUnavailableReason(options: OpenBrowserOptions = {}): string | undefined {
  let resolution: BrowserResolution;
  try {
    resolution = resolveBrowser(options);
  } catch {
    // A malformed explicit command: opening will report it as a configuration error.
    return undefined;
  }
  return resolution.available ? undefined : resolution.reason;
}

/**
 * Splits a command line into words without a shell: whitespace separates, single and double
 * quotes group, a backslash escapes the next character outside single quotes. Nothing is
 * expanded (no variables, globs or `~`). This is how {@link openBrowser} reads a `command` string
 * (and the CLI its `--browser-command` and `--command`).
 *
 * @throws `ConfigurationError` `CONFIG_INVALID` on an unclosed quote.
 *
 * @example
 * ```ts
 * splitCommand(`chromium --profile-directory="Profile 1"`); // ["chromium", "--profile-directory=Profile 1"]
 * ```
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < command.length) current += command[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < command.length) {
      current += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The browser command has an unclosed quote.",
    );
  }
  if (inWord) words.push(current);
  return words;
}

function programName(program: string): string {
  return (program.split(/[\\/]/).pop() ?? program).slice(0, 60);
}

/**
 * Opens a URL in the system browser, or with the given command (S5: this is the only way
 * latchkey starts a browser). The URL is passed as one argument, never through a shell.
 * Resolves once the program has started and has not failed within `failWindowMs`; rejects with
 * `BROWSER_FAILED` when no browser can be opened here, the program cannot be started, or it
 * exits non-zero quickly. Never puts the URL in an error: the caller shows it to the user.
 *
 * @throws `LatchkeyError` `BROWSER_FAILED` ({@link NodeServerErrorCode}); `ConfigurationError`
 * `CONFIG_INVALID` for a malformed `command`.
 *
 * @example
 * ```ts
 * await openBrowser(authorizationUrl.href).catch(() => showToUser(`Open ${authorizationUrl}`));
 * await openBrowser(url, { command: "firefox --new-window" });
 * ```
 */
export function openBrowser(url: string, options: OpenBrowserOptions = {}): Promise<void> {
  let resolution: BrowserResolution;
  try {
    resolution = resolveBrowser(options);
  } catch (error) {
    return Promise.reject(error);
  }
  if (!resolution.available) {
    return Promise.reject(
      new LatchkeyError(
        NodeServerErrorCode.BROWSER_FAILED,
        `No browser can be opened: ${resolution.reason}.`,
      ),
    );
  }
  const words = [...resolution.argv];
  const placeholder = resolution.source === "BROWSER" && words.includes("%s");
  const [program, ...rest] = placeholder ? words.map((w) => (w === "%s" ? url : w)) : words;
  const args = placeholder ? rest : [...rest, url];
  if (!program) {
    return Promise.reject(
      new ConfigurationError(ErrorCode.CONFIG_INVALID, "The browser command is empty."),
    );
  }
  const name = programName(program);
  // explorer.exe exits 1 even when it opened the URL: its status means nothing.
  const statusMeaningful = !/^explorer(\.exe)?$/i.test(name);
  const failWindowMs = options.failWindowMs ?? 1500;
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    const failed = (detail: string, cause?: unknown): LatchkeyError<NodeServerErrorCode> =>
      new LatchkeyError(
        NodeServerErrorCode.BROWSER_FAILED,
        `Could not open a browser with "${name}" (${detail}).`,
        cause === undefined ? {} : { cause },
      );
    try {
      child = spawn(program, args, {
        stdio: "ignore",
        detached: true,
        shell: false,
        windowsHide: true,
        env: { ...process.env, ...(options.env ?? {}) } as NodeJS.ProcessEnv,
      });
    } catch (cause) {
      reject(failed("it could not be started", cause));
      return;
    }
    let stopTimer: (() => void) | undefined;
    child.once("error", (cause) => {
      stopTimer?.();
      reject(failed((cause as NodeJS.ErrnoException).code ?? "error", cause));
    });
    child.once("spawn", () => {
      if (failWindowMs <= 0) {
        child.unref();
        resolve();
        return;
      }
      // Unref'd: until it fires, the child keeps the process alive.
      stopTimer = startTimer(failWindowMs, () => {
        child.removeAllListeners("exit");
        child.unref();
        resolve();
      });
      child.once("exit", (code, signal) => {
        stopTimer?.();
        if (statusMeaningful && (code !== 0 || signal !== null)) {
          reject(failed(signal !== null ? `killed by ${signal}` : `exit status ${code}`));
        } else {
          resolve();
        }
      });
    });
  });
}
