import type { Command } from "commander";

/**
 * `latchkey token` runs on every kubectl or script call, and building and running commander for
 * it costs several ms of a cold start. So the bundled bin parses the plain invocations of
 * `token` itself, from a table of the command's options that `scripts/bundle.mjs` takes from
 * the very commander definition at build time ({@link describeOptions}). It reproduces
 * commander's result (values, and where each came from: `default`, `cli` or `env`) and gives up
 * on anything it is not sure of (an unknown or malformed option, `--help`, `--`, a bundle of
 * short flags, an operand, a value that is not one of the choices, a value that starts with
 * `-`): commander then parses as always, errors and help included. A test holds the two parsers
 * to the same answers.
 */

/** One option of a command, as {@link describeOptions} records it. */
export interface OptionSpec {
  /** `--issuer`. */
  long: string;
  /** `-v`, if any. */
  short?: string;
  /** The key of the value, e.g. `clientId`. */
  key: string;
  /** `LATCHKEY_ISSUER`, if any. */
  env?: string;
  /** Whether it takes a value (`<value>`); otherwise a boolean flag. */
  takesValue: boolean;
  /** `--no-...`. */
  negate: boolean;
  /** Repeatable: each value is appended to a list. */
  repeatable: boolean;
  /** The allowed values, if limited. */
  choices?: readonly string[];
}

/** What a command starts with before any argument: defaults, by key. */
export interface OptionTable {
  options: OptionSpec[];
  defaults: Record<string, unknown>;
}

type Source = "default" | "cli" | "env";

/** @internal What the commands read of commander's Command: its options and their sources. */
export interface OptionSources {
  readonly options: readonly {
    readonly required: boolean;
    readonly optional: boolean;
    readonly negate: boolean;
    readonly envVar?: string | undefined;
    /** A common flag the command accepts but does not use (options.ts): its value is dropped. */
    readonly hidden?: boolean;
    attributeName(): string;
  }[];
  getOptionValueSource(key: string): string | undefined;
}

/** The table of a commander command's options. `repeatable` tells the appending ones. */
export function describeOptions(
  command: Command,
  repeatable: (option: Command["options"][number]) => boolean,
): OptionTable {
  const defaults: Record<string, unknown> = {};
  const values = command.opts();
  for (const [key, value] of Object.entries(values)) {
    if (command.getOptionValueSource(key) === "default") defaults[key] = value;
  }
  const options = command.options.map((option) => {
    const spec: OptionSpec = {
      long: option.long as string,
      key: option.attributeName(),
      takesValue: option.required || option.optional,
      negate: option.negate,
      repeatable: repeatable(option),
    };
    if (option.short) spec.short = option.short;
    if (option.envVar) spec.env = option.envVar;
    if (option.argChoices) spec.choices = [...option.argChoices];
    return spec;
  });
  return { options, defaults };
}

/** The result of {@link quickParse}: the values commander would give, and their sources. */
export interface QuickParse {
  flags: Record<string, unknown>;
  command: OptionSources;
}

/**
 * Parses `args` (after the command name) as commander would with this table and environment,
 * or returns `undefined` when commander must decide.
 */
export function quickParse(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  table: OptionTable,
): QuickParse | undefined {
  const flags: Record<string, unknown> = { ...table.defaults };
  const sources = new Map<string, Source>();
  for (const key of Object.keys(table.defaults)) sources.set(key, "default");
  const byName = new Map<string, OptionSpec>();
  for (const spec of table.options) {
    byName.set(spec.long, spec);
    if (spec.short) byName.set(spec.short, spec);
  }
  const set = (spec: OptionSpec, value: string | boolean, source: Source): void => {
    if (typeof value === "string" && spec.repeatable) {
      const previous = flags[spec.key];
      flags[spec.key] = [...(Array.isArray(previous) ? previous : []), value];
    } else {
      flags[spec.key] = value;
    }
    sources.set(spec.key, source);
  };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    let name = arg;
    let value: string | undefined;
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    if (equals > 2) {
      name = arg.slice(0, equals);
      value = arg.slice(equals + 1);
    }
    const spec = byName.get(name);
    if (spec === undefined) return undefined;
    if (!spec.takesValue) {
      if (value !== undefined) return undefined;
      set(spec, !spec.negate, "cli");
      continue;
    }
    if (value === undefined) {
      value = args[++index];
      if (value === undefined || value.startsWith("-")) return undefined;
    }
    if (spec.choices && !spec.choices.includes(value)) return undefined;
    set(spec, value, "cli");
  }
  for (const spec of table.options) {
    if (spec.env === undefined || !(spec.env in env) || sources.get(spec.key) === "cli") continue;
    const value = env[spec.env];
    if (!spec.takesValue) {
      set(spec, !spec.negate, "env");
      continue;
    }
    if (value === undefined) return undefined;
    if (spec.choices && !spec.choices.includes(value)) return undefined;
    set(spec, value, "env");
  }
  const options = table.options.map((spec) => ({
    required: spec.takesValue,
    optional: false,
    negate: spec.negate,
    envVar: spec.env,
    attributeName: () => spec.key,
  }));
  return {
    flags,
    command: { options, getOptionValueSource: (key) => sources.get(key) },
  };
}
