import type { Writable } from "node:stream";
import { escapeText } from "@latchkey/core/store";

/**
 * Where and how much the CLI writes. stdout carries data only; humans read stderr. Every line
 * written to stderr goes through {@link escapeText} (S54): a control, bidi or other format
 * character shows as `\x1b` / `\u202e` whoever forgot to escape it; the line breaks of the
 * text passed stay. A server-provided value inside a line is escaped by the caller with
 * {@link printable}, so that its own line breaks cannot start a line.
 */
export interface Output {
  /** Data for scripts (stdout). */
  data(text: string): void;
  /** A message for the user (stderr), unless `--quiet`. */
  info(text: string): void;
  /** Something the user must act on (stderr), even with `--quiet`. */
  prompt(text: string): void;
  /** A warning (stderr), even with `--quiet`. */
  warn(text: string): void;
  /** An error line (stderr), always. */
  error(text: string): void;
  /** Detail shown with `-v` only. Callers pass no secrets; query strings are redacted by callers. */
  debug(text: string): void;
  /** Whether `-v` is on. */
  readonly verbose: boolean;
  /**
   * Shows that latchkey is waiting: a spinner with the elapsed time when stderr is a TTY, one
   * plain line otherwise (nothing with `--quiet`). Returns the function that ends it.
   */
  progress(text: string): () => void;
}

/** Options of {@link createOutput}. */
export interface OutputOptions {
  stdout: { write(text: string): unknown };
  /** stderr, asked for only when something is written to it. */
  stderr: () => Writable & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
  verbose: boolean;
  quiet: boolean;
}

/** Creates the CLI's output; colours only on a TTY and never with `NO_COLOR`. */
export function createOutput(options: OutputOptions): Output {
  const stderr = options.stderr;
  let colorMemo: boolean | undefined;
  const color = (): boolean => {
    colorMemo ??= stderr().isTTY === true && !options.env.NO_COLOR && options.env.TERM !== "dumb";
    return colorMemo;
  };
  const paint = (code: string, text: string): string =>
    color() ? `\u001b[${code}m${text}\u001b[0m` : text;
  const started = Date.now();
  // The colour codes of a prefix are ours: added after the text is escaped.
  const write = (text: string, prefix = ""): void => {
    stderr().write(
      `${prefix}${text
        .split("\n")
        .map((line) => escapeText(line))
        .join("\n")}\n`,
    );
  };
  return {
    verbose: options.verbose,
    data: (text) => options.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    info: (text) => {
      if (!options.quiet) write(text);
    },
    prompt: (text) => write(text),
    warn: (text) => write(text, `${paint("33", "warning:")} `),
    error: (text) => write(text, `${paint("31", "error:")} `),
    progress: (text) => {
      if (options.quiet) return () => undefined;
      if (stderr().isTTY !== true) {
        write(text);
        return () => undefined;
      }
      const shown = escapeText(text);
      const begun = Date.now();
      let stopped = false;
      let spinner: { text: string; stop(): unknown; start(): unknown } | undefined;
      let timer: NodeJS.Timeout | undefined;
      void import("yocto-spinner").then(({ default: createSpinner }) => {
        if (stopped) return;
        spinner = createSpinner({
          text: shown,
          stream: stderr(),
          color: color() ? "cyan" : undefined,
        } as Parameters<typeof createSpinner>[0]);
        spinner.start();
        timer = setInterval(() => {
          if (spinner) spinner.text = `${shown} ${Math.round((Date.now() - begun) / 1000)} s`;
        }, 1000);
        timer.unref();
      });
      return () => {
        stopped = true;
        if (timer) clearInterval(timer);
        spinner?.stop();
      };
    },
    debug: (text) => {
      if (options.verbose) {
        const ms = String(Date.now() - started).padStart(5);
        write(text, `${paint("2", `[${ms} ms]`)} `);
      }
    },
  };
}

/**
 * A value from a server or a callback (subject, scope, claims, an error message) as one visible
 * line: `escapeText` of `@latchkey/core` (S54), line breaks included (`\x0a`).
 */
export const printable = (text: string): string => escapeText(text);
