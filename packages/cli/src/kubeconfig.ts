import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  ConfigurationError,
  ErrorCode,
  type LatchkeyError,
  LoginRequiredError,
} from "@latchkey/core/store";
import type { CommonFlags } from "./config.js";
import type { OptionSources } from "./quick-parse.js";
import type { Context } from "./session.js";

/** The flags of `latchkey kubeconfig` (docs/cli.md), on top of the common ones. */
export type KubeconfigFlags = CommonFlags & {
  server?: string;
  cluster?: string;
  certificateAuthority?: string;
  user?: string;
  context?: string;
  execCommand?: string;
  idToken?: boolean;
  minValidity?: string;
};

// Settings whose value is a file: kubectl may run latchkey from any directory.
const PATHS = new Set(["clientSecretFile", "caFile", "storeDir"]);
// What is not a setting of the session: output, `token`'s and `kubeconfig`'s own options, and
// the client secret (never written anywhere).
const NOT_SETTINGS = new Set([
  "verbose",
  "quiet",
  "json",
  "format",
  "minValidity",
  "login",
  "idToken",
  "clientSecret",
  "server",
  "cluster",
  "certificateAuthority",
  "user",
  "context",
  "execCommand",
]);

/**
 * The arguments that give another `latchkey` process the settings of this one that came from
 * flags or `LATCHKEY_*` variables (a config-file profile is named by `--profile`). Never a client
 * secret: `--client-secret-file` is passed as an absolute path, an inline secret is left out.
 * (Read from the command's own options, so that this module shares no code with the hot path.)
 */
export function settingArgs(flags: CommonFlags, command: OptionSources): string[] {
  const values = flags as Record<string, unknown>;
  const args: string[] = [];
  for (const option of command.options) {
    const key = option.attributeName();
    const source = command.getOptionValueSource(key);
    if (NOT_SETTINGS.has(key) || (source !== "cli" && source !== "env")) continue;
    const flag = `--${option.negate ? "no-" : ""}${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const value = values[key];
    if (typeof value === "boolean") {
      if (value !== option.negate) args.push(flag);
    } else if (Array.isArray(value)) {
      for (const item of value) args.push(flag, String(item));
    } else if (typeof value === "string") {
      args.push(flag, PATHS.has(key) ? resolve(value) : value);
    }
  }
  return args;
}

/** A word as a POSIX shell reads it back: quoted only when it needs to be. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The error of `token --format exec-credential` when kubectl says nobody can be asked
 * (`spec.interactive: false`) and a login is needed (nothing stored, or the refresh refused): the
 * reason, and the `latchkey login` to run, as a `LOGIN_REQUIRED` error (exit 4).
 */
export function nonInteractiveError(
  error: LatchkeyError,
  flags: CommonFlags,
  command: OptionSources,
): LoginRequiredError {
  const login = ["latchkey", "login", ...settingArgs(flags, command)].map(shellWord).join(" ");
  return new LoginRequiredError(
    ErrorCode.LOGIN_REQUIRED,
    `${error.message} kubectl runs latchkey non-interactively here (KUBERNETES_EXEC_INFO spec.interactive is false: interactiveMode Never, or no terminal), so no login was started. Log in first: ${login}`,
  );
}

type Yaml = string | boolean | Yaml[] | { [key: string]: Yaml };

/**
 * A YAML double-quoted scalar: JSON's escapes are YAML's, and what JSON leaves raw but YAML
 * does not allow raw (DEL, C1 controls, line and paragraph separators, BOM, non-characters) is
 * escaped too, so any text reads back as it was.
 */
function quote(text: string): string {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text))
    throw new ConfigurationError(ErrorCode.CONFIG_INVALID, "A value is not valid Unicode text.");
  return JSON.stringify(text).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function block(value: Yaml, pad: string): string[] {
  if (typeof value === "string" || typeof value === "boolean")
    return [`${pad}${typeof value === "string" ? quote(value) : String(value)}`];
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      const lines = block(item, `${pad}  `);
      return [`${pad}- ${(lines[0] ?? "").trimStart()}`, ...lines.slice(1)];
    });
  }
  return Object.entries(value).flatMap(([key, item]) => {
    if (typeof item !== "object") return [`${pad}${key}: ${block(item, "")[0]}`];
    if (Array.isArray(item) && item.length === 0) return [`${pad}${key}: []`];
    return [`${pad}${key}:`, ...block(item, `${pad}  `)];
  });
}

/** Renders a kubeconfig as block YAML, every string double-quoted. */
export function toYaml(document: Record<string, Yaml>): string {
  return block(document, "").join("\n");
}

function usage(message: string): ConfigurationError {
  return new ConfigurationError(ErrorCode.CONFIG_INVALID, message);
}

/**
 * `latchkey kubeconfig`: a kubeconfig whose user entry runs `latchkey token --format
 * exec-credential` with this invocation's settings; with `--server` (a new cluster) or
 * `--cluster` (an existing one), a context using it too.
 */
export function kubeconfig(flags: KubeconfigFlags, command: OptionSources, ctx: Context): string {
  const secretSource = command.getOptionValueSource("clientSecret");
  if (secretSource === "cli")
    throw usage(
      "--client-secret would be written into the kubeconfig in clear text; put it in a file and give --client-secret-file.",
    );
  if (secretSource === "env")
    ctx.out.warn(
      "LATCHKEY_CLIENT_SECRET is not written into the kubeconfig: kubectl must run with it set (or give --client-secret-file).",
    );
  if (flags.store === "memory")
    ctx.out.warn("--store memory keeps nothing between two kubectl calls: each one logs in.");
  const args = ["token", "--format", "exec-credential", ...settingArgs(flags, command)];
  if (flags.idToken === true) args.push("--id-token");
  if (flags.minValidity !== undefined) {
    const seconds = Number(flags.minValidity);
    if (!Number.isFinite(seconds) || seconds < 0)
      throw usage("--min-validity must be a number of seconds.");
    args.push("--min-validity", flags.minValidity);
  }
  const exec: Record<string, Yaml> = {
    apiVersion: "client.authentication.k8s.io/v1",
    command: flags.execCommand ?? "latchkey",
    args,
  };
  if (ctx.env.LATCHKEY_CONFIG)
    exec.env = [{ name: "LATCHKEY_CONFIG", value: resolve(ctx.env.LATCHKEY_CONFIG) }];
  exec.interactiveMode = "IfAvailable";
  exec.provideClusterInfo = false;
  const profile = flags.profile ?? "default";
  const user = flags.user ?? `latchkey-${profile}`;
  const document: Record<string, Yaml> = { apiVersion: "v1", kind: "Config" };
  let cluster = flags.cluster;
  if (flags.server !== undefined) {
    let url: URL;
    try {
      url = new URL(flags.server);
    } catch {
      throw usage("--server is not an absolute URL.");
    }
    if (url.protocol !== "https:")
      throw usage("--server must be an https:// URL: kubectl sends credentials only over TLS.");
    cluster ??= url.host;
    const entry: Record<string, Yaml> = { server: flags.server };
    if (flags.certificateAuthority !== undefined)
      entry["certificate-authority-data"] = certificateData(flags.certificateAuthority);
    document.clusters = [{ name: cluster, cluster: entry }];
  } else if (flags.certificateAuthority !== undefined) {
    throw usage("--certificate-authority needs --server.");
  }
  document.users = [{ name: user, user: { exec } }];
  if (cluster !== undefined) {
    const context = flags.context ?? `${user}@${cluster}`;
    document.contexts = [{ name: context, context: { cluster, user } }];
    document["current-context"] = context;
  } else if (flags.context !== undefined) {
    throw usage("--context needs --server or --cluster.");
  }
  return toYaml(document);
}

function certificateData(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      `Cannot read --certificate-authority (${(cause as NodeJS.ErrnoException).code ?? "error"}).`,
      { cause },
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw usage("--certificate-authority holds no PEM certificate.");
  return Buffer.from(pem).toString("base64");
}
