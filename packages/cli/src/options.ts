import { Command, Option } from "commander";
import { FLOWS } from "./config.js";

// The builders of the commands' commander definitions (each command's own are in
// src/commands/<name>.ts, made with these). Only the bundle's commander path loads this module
// (and commander): `latchkey token` is parsed from a table taken from it at build time
// (quick-parse.ts).

/** commander's classes, for the definitions that need a plain command or option. */
export { Command, Option };

/**
 * An option that also reads `LATCHKEY_<FLAG>` (docs/cli.md): `--no-browser` from
 * `LATCHKEY_NO_BROWSER`, `--scope` from `LATCHKEY_SCOPE`. (Commander wires the variable when the
 * option is added, so it is set here, at creation.)
 */
export function envOption(flags: string, description: string): Option {
  const option = new Option(flags, description);
  if (option.long)
    option.env(`LATCHKEY_${option.long.slice(2).toUpperCase().replaceAll("-", "_")}`);
  return option;
}

/** @internal The parser of the repeatable options: each value is appended. */
export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

/**
 * The groups of common options: what to log in to (`server`, `client`), what to ask for
 * (`request`), how to log in (`login`), TLS and request time limits (`tls`), where credentials live
 * (`store`) and how
 * much to say (`output`). Each command's help lists the groups it uses. The flags of the other
 * groups are still accepted and ignored (hidden from its help): every command takes the common
 * flags (docs/cli.md), so that one set of flags, say in a shell alias, works with every command.
 */
export type OptionGroup = "server" | "client" | "request" | "login" | "tls" | "store" | "output";

/** Every group: what `login` and `token` take. */
export const ALL_GROUPS: readonly OptionGroup[] = [
  "server",
  "client",
  "request",
  "login",
  "tls",
  "store",
  "output",
];

// The options in help order, each with its group.
const OPTIONS: [OptionGroup, (requireClient: boolean) => Option][] = [
  [
    "server",
    () =>
      envOption("--issuer <url>", "discover endpoints from this issuer (RFC 8414, then OpenID)"),
  ],
  ["server", () => envOption("--authorization-endpoint <url>", "explicit authorization endpoint")],
  ["server", () => envOption("--token-endpoint <url>", "explicit token endpoint")],
  [
    "server",
    () =>
      envOption("--device-authorization-endpoint <url>", "explicit device authorization endpoint"),
  ],
  ["server", () => envOption("--revocation-endpoint <url>", "explicit revocation endpoint")],
  [
    "client",
    (requireClient) =>
      envOption("--client-id <id>", requireClient ? "client id (required)" : "client id"),
  ],
  [
    "client",
    () => envOption("--client-secret <secret>", "client secret (confidential clients only)"),
  ],
  ["client", () => envOption("--client-secret-file <file>", "read the client secret from a file")],
  [
    "request",
    () =>
      envOption("--scope <scope>", "scope to request; space-separated, repeatable").argParser(
        collect,
      ),
  ],
  ["request", () => envOption("--audience <audience>", "audience parameter")],
  [
    "request",
    () =>
      envOption("--resource <uri>", "RFC 8707 resource indicator, repeatable").argParser(collect),
  ],
  [
    "login",
    () =>
      envOption(
        "--redirect-uri <uri>",
        "loopback redirect URI (default http://127.0.0.1:0/callback)",
      ),
  ],
  ["login", () => envOption("--port <n>", "port of the loopback redirect URI (0 = any free port)")],
  [
    "login",
    () =>
      envOption(
        "--auth-param <k=v>",
        "extra authorization request parameter, repeatable",
      ).argParser(collect),
  ],
  [
    "request",
    () =>
      envOption("--token-param <k=v>", "extra token request parameter, repeatable").argParser(
        collect,
      ),
  ],
  [
    "request",
    () =>
      envOption("--refresh-param <k=v>", "extra refresh request parameter, repeatable").argParser(
        collect,
      ),
  ],
  [
    "login",
    () =>
      envOption(
        "--copy-auth-params-to-token-request",
        "send the authorization parameters to the token endpoint too",
      ),
  ],
  [
    "login",
    () =>
      envOption(
        "--browser-command <cmd>",
        "how to open a URL (no shell; the URL is the last argument)",
      ),
  ],
  ["login", () => envOption("--flow <flow>", `how to log in: ${FLOWS.join(" | ")} (default auto)`)],
  [
    "login",
    () =>
      envOption("--command <cmd>", "for --flow command: its trimmed stdout is the access token"),
  ],
  [
    "tls",
    () =>
      envOption(
        "--ca-file <path>",
        "also trust these PEM certificates (HTTPS_PROXY/NO_PROXY are honoured)",
      ),
  ],
  [
    "tls",
    () => envOption("--insecure-skip-tls-verify", "do not verify TLS certificates (dangerous)"),
  ],
  ["login", () => envOption("--no-browser", "never open a browser; print the URL and wait")],
  // Also the limit of each request (at most 30 s): refresh and logout use it too.
  [
    "tls",
    () =>
      envOption(
        "--timeout <seconds>",
        "how long to wait for the user (default 180); each request gets at most 30 s of it",
      ),
  ],
  ["store", () => envOption("--profile <name>", 'credentials profile (default "default")')],
  ["store", () => envOption("--store <kind>", "auto | keyring | file | memory (default auto)")],
  ["store", () => envOption("--store-dir <dir>", "file store directory")],
  ["output", () => envOption("-v, --verbose", "show what is happening on stderr (never secrets)")],
  ["output", () => envOption("-q, --quiet", "only errors and required prompts on stderr")],
];

/**
 * Adds the common options, listing in the help those of these groups (by default all of them, as
 * `login` and `token` take); the others are accepted but hidden. Environment variables are
 * `LATCHKEY_<FLAG>`. `except` hides some long flags of the groups too (`status` needs no client
 * secret: it names the key with the issuer and client id).
 */
export function addOptionGroups(
  command: Command,
  groups: readonly OptionGroup[],
  options: { requireClient: boolean; except?: readonly string[] },
): Command {
  for (const [group, make] of OPTIONS) {
    const option = make(options.requireClient);
    if (!groups.includes(group) || options.except?.includes(option.long as string))
      option.hideHelp();
    command.addOption(option);
  }
  return command;
}

/** Adds the options every command used to take (all groups). Environment variables are `LATCHKEY_<FLAG>`. */
export function addCommonOptions(command: Command, options: { requireClient: boolean }): Command {
  return addOptionGroups(command, ALL_GROUPS, options);
}

/** Creates the program's subcommand with the common options of `groups` (default all). */
export function commonCommand(
  name: string,
  description: string,
  requireClient = true,
  groups: readonly OptionGroup[] = ALL_GROUPS,
): Command {
  return addOptionGroups(new Command(name).description(description), groups, { requireClient });
}

/**
 * Creates a subcommand that lists in its help the common options of `groups` only, less the long
 * flags of `except`; the others are accepted and ignored (see {@link OptionGroup}).
 */
export function ownCommand(
  name: string,
  description: string,
  groups: readonly OptionGroup[],
  except: readonly string[],
): Command {
  return addOptionGroups(new Command(name).description(description), groups, {
    requireClient: true,
    except,
  });
}
