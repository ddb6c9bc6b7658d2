import { Command, Option } from "commander";
import { FLOWS, TOKEN_FORMATS } from "./config.js";

// The commander definitions of the commands' options. Only the bundle's commander path loads
// this module (and commander): `latchkey token` is parsed from a table taken from it at build
// time (quick-parse.ts).

/**
 * An option that also reads `LATCHKEY_<FLAG>` (CLI.md): `--no-browser` from
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

/** Adds the options every command takes. Environment variables are `LATCHKEY_<FLAG>`. */
export function addCommonOptions(command: Command, options: { requireClient: boolean }): Command {
  command
    .addOption(
      envOption("--issuer <url>", "discover endpoints from this issuer (RFC 8414, then OpenID)"),
    )
    .addOption(envOption("--authorization-endpoint <url>", "explicit authorization endpoint"))
    .addOption(envOption("--token-endpoint <url>", "explicit token endpoint"))
    .addOption(
      envOption("--device-authorization-endpoint <url>", "explicit device authorization endpoint"),
    )
    .addOption(envOption("--revocation-endpoint <url>", "explicit revocation endpoint"))
    .addOption(
      envOption("--client-id <id>", options.requireClient ? "client id (required)" : "client id"),
    )
    .addOption(envOption("--client-secret <secret>", "client secret (confidential clients only)"))
    .addOption(envOption("--client-secret-file <file>", "read the client secret from a file"))
    .addOption(
      envOption("--scope <scope>", "scope to request; space-separated, repeatable").argParser(
        collect,
      ),
    )
    .addOption(envOption("--audience <audience>", "audience parameter"))
    .addOption(
      envOption("--resource <uri>", "RFC 8707 resource indicator, repeatable").argParser(collect),
    )
    .addOption(
      envOption(
        "--redirect-uri <uri>",
        "loopback redirect URI (default http://127.0.0.1:0/callback)",
      ),
    )
    .addOption(envOption("--port <n>", "port of the loopback redirect URI (0 = any free port)"))
    .addOption(
      envOption(
        "--auth-param <k=v>",
        "extra authorization request parameter, repeatable",
      ).argParser(collect),
    )
    .addOption(
      envOption("--token-param <k=v>", "extra token request parameter, repeatable").argParser(
        collect,
      ),
    )
    .addOption(
      envOption("--refresh-param <k=v>", "extra refresh request parameter, repeatable").argParser(
        collect,
      ),
    )
    .addOption(
      envOption(
        "--copy-auth-params-to-token-request",
        "send the authorization parameters to the token endpoint too",
      ),
    )
    .addOption(
      envOption(
        "--browser-command <cmd>",
        "how to open a URL (no shell; the URL is the last argument)",
      ),
    )
    .addOption(envOption("--flow <flow>", `how to log in: ${FLOWS.join(" | ")} (default auto)`))
    .addOption(
      envOption("--command <cmd>", "for --flow command: its trimmed stdout is the access token"),
    )
    .addOption(
      envOption(
        "--ca-file <path>",
        "also trust these PEM certificates (HTTPS_PROXY/NO_PROXY are honoured)",
      ),
    )
    .addOption(
      envOption("--insecure-skip-tls-verify", "do not verify TLS certificates (dangerous)"),
    )
    .addOption(envOption("--no-browser", "never open a browser; print the URL and wait"))
    .addOption(envOption("--timeout <seconds>", "how long to wait for the user (default 180)"))
    .addOption(envOption("--profile <name>", 'credentials profile (default "default")'))
    .addOption(envOption("--store <kind>", "auto | keyring | file | memory (default auto)"))
    .addOption(envOption("--store-dir <dir>", "file store directory"))
    .addOption(envOption("-v, --verbose", "show what is happening on stderr (never secrets)"))
    .addOption(envOption("-q, --quiet", "only errors and required prompts on stderr"));
  return command;
}

/** Creates the program's subcommand with the common options. */
export function commonCommand(name: string, description: string, requireClient = true): Command {
  return addCommonOptions(new Command(name).description(description), { requireClient });
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
