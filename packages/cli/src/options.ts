import { Command, Option } from "commander";
import { FLOWS, TOKEN_FORMATS } from "./config.js";

// The commander definitions of the commands' options. Only the bundle's commander path loads
// this module (and commander): `latchkey token` is parsed from a table taken from it at build
// time (quick-parse.ts).

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
 * (`request`), how to log in (`login`), TLS (`tls`), where credentials live (`store`) and how
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
  ["login", () => envOption("--timeout <seconds>", "how long to wait for the user (default 180)")],
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
 * The `token` command and its options, without its action. `scripts/bundle.mjs` also builds it,
 * to give the bin the table of options it parses `latchkey token` with (`quick-parse.ts`).
 */
export function tokenCommand(): Command {
  return commonCommand(
    "token",
    "print a valid access token: stored, refreshed, or from a new login",
  )
    .addOption(
      envOption("--format <format>", "raw | json | header | exec-credential")
        .choices(TOKEN_FORMATS)
        .default("raw"),
    )
    .addOption(
      envOption(
        "--min-validity <seconds>",
        "refresh when the token expires within this many seconds",
      ).default("60"),
    )
    .addOption(envOption("--no-login", "fail with exit code 4 instead of starting a login"))
    .addOption(envOption("--id-token", "the ID token instead of the access token"));
}

/** The `kubeconfig` command and its options, without its action. */
export function kubeconfigCommand(): Command {
  return commonCommand(
    "kubeconfig",
    "print a kubeconfig whose user runs `latchkey token --format exec-credential`",
  )
    .addOption(new Option("--server <url>", "also a cluster with this API server, and a context"))
    .addOption(
      new Option("--cluster <name>", "the cluster's name (an existing one without --server)"),
    )
    .addOption(
      new Option("--certificate-authority <file>", "the cluster's CA (PEM), written inline"),
    )
    .addOption(new Option("--user <name>", 'the user entry\'s name (default "latchkey-PROFILE")'))
    .addOption(new Option("--context <name>", 'the context\'s name (default "USER@CLUSTER")'))
    .addOption(
      new Option(
        "--exec-command <path>",
        'the latchkey kubectl runs (default "latchkey", on PATH)',
      ),
    )
    .addOption(envOption("--id-token", "kubectl sends the ID token instead of the access token"))
    .addOption(envOption("--min-validity <seconds>", "passed to `latchkey token`"));
}
