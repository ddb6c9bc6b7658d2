import { spawn } from "node:child_process";
import { ErrorCode, LatchkeyError } from "@latchkey/core";

/** Options of {@link openBrowser}. */
export interface OpenBrowserOptions {
  /**
   * The command that opens a URL, as a string split into words (quotes group words; no shell)
   * or as an argument vector. The URL is appended as the last argument. Default: `$BROWSER`,
   * else the platform's opener (`xdg-open`, `open`, `rundll32 url.dll,FileProtocolHandler`).
   */
  command?: string | readonly string[];
  /** The environment to read `$BROWSER`, `$DISPLAY`, `$SSH_CONNECTION` from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The platform. Default `process.platform`. */
  platform?: NodeJS.Platform;
}

/** Why no browser can be opened, or `undefined` when one probably can. */
export function browserUnavailableReason(options: OpenBrowserOptions = {}): string | undefined {
  if (options.command !== undefined) return undefined;
  const env = options.env ?? process.env;
  if (env.BROWSER) return undefined;
  const platform = options.platform ?? process.platform;
  if (platform === "linux" || platform === "freebsd" || platform === "openbsd") {
    if (!env.DISPLAY && !env.WAYLAND_DISPLAY && !env.WSL_DISTRO_NAME) {
      return env.SSH_CONNECTION || env.SSH_TTY
        ? "this is an SSH session without a display"
        : "there is no graphical display ($DISPLAY is not set)";
    }
  }
  return undefined;
}

/**
 * Splits a command line into words without a shell: whitespace separates, single and double
 * quotes group, a backslash escapes the next character outside single quotes.
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
    throw new LatchkeyError(ErrorCode.CONFIG_INVALID, "The browser command has an unclosed quote.");
  }
  if (inWord) words.push(current);
  return words;
}

function defaultCommand(options: OpenBrowserOptions): string[] {
  const env = options.env ?? process.env;
  if (env.BROWSER) return splitCommand(env.BROWSER);
  switch (options.platform ?? process.platform) {
    case "darwin":
      return ["open"];
    case "win32":
      return ["rundll32", "url.dll,FileProtocolHandler"];
    default:
      return ["xdg-open"];
  }
}

/**
 * Opens a URL in the system browser, or with the given command (S5: this is the only way
 * latchkey starts a browser). Resolves once the program has started; rejects with
 * `BROWSER_FAILED` when it cannot be started. The URL is passed as one argument, never through
 * a shell. Never prints the URL: the caller shows it to the user.
 */
export function openBrowser(url: string, options: OpenBrowserOptions = {}): Promise<void> {
  const argv =
    options.command === undefined
      ? defaultCommand(options)
      : typeof options.command === "string"
        ? splitCommand(options.command)
        : [...options.command];
  const [program, ...args] = argv;
  if (!program) {
    return Promise.reject(
      new LatchkeyError(ErrorCode.CONFIG_INVALID, "The browser command is empty."),
    );
  }
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, [...args, url], {
        stdio: "ignore",
        detached: true,
        shell: false,
        windowsHide: true,
        env: { ...process.env, ...(options.env ?? {}) } as NodeJS.ProcessEnv,
      });
    } catch (cause) {
      reject(
        new LatchkeyError(ErrorCode.BROWSER_FAILED, `Could not start the browser "${program}".`, {
          cause,
        }),
      );
      return;
    }
    child.once("error", (cause) => {
      reject(
        new LatchkeyError(
          ErrorCode.BROWSER_FAILED,
          `Could not start the browser "${program}" (${(cause as NodeJS.ErrnoException).code ?? "error"}).`,
          { cause },
        ),
      );
    });
    child.once("spawn", () => {
      child.unref();
      resolve();
    });
  });
}
