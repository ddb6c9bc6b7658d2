import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { ConfigurationError, ErrorCode } from "@latchkey/core/store";

/** Where the config file is: `$LATCHKEY_CONFIG`, else `$XDG_CONFIG_HOME/latchkey/config.json`, else `~/.config/latchkey/config.json`. */
export function configFilePath(env: Readonly<Record<string, string | undefined>>): {
  path: string;
  explicit: boolean;
} {
  if (env.LATCHKEY_CONFIG) return { path: env.LATCHKEY_CONFIG, explicit: true };
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".config");
  return { path: join(base, "latchkey", "config.json"), explicit: false };
}

/** The keys a profile may set: the long names of the common flags. */
export const PROFILE_KEYS: readonly string[] = [
  "issuer",
  "authorization-endpoint",
  "token-endpoint",
  "device-authorization-endpoint",
  "revocation-endpoint",
  "client-id",
  "client-secret",
  "client-secret-file",
  "scope",
  "audience",
  "resource",
  "redirect-uri",
  "port",
  "auth-param",
  "token-param",
  "refresh-param",
  "copy-auth-params-to-token-request",
  "flow",
  "command",
  "browser-command",
  "browser",
  "timeout",
  "store",
  "store-dir",
  "ca-file",
  "insecure-skip-tls-verify",
];

const LIST_KEYS = new Set(["scope", "resource", "auth-param", "token-param", "refresh-param"]);
const BOOLEAN_KEYS = new Set([
  "copy-auth-params-to-token-request",
  "browser",
  "insecure-skip-tls-verify",
]);

function invalid(path: string, detail: string): ConfigurationError {
  return new ConfigurationError(
    ErrorCode.CONFIG_INVALID,
    `The config file ${path} is invalid: ${detail}.`,
  );
}

/** A flag's attribute name as commander stores it (`client-id` → `clientId`). */
export function attributeName(key: string): string {
  return key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The config file's profiles, by name (`undefined` when there is no file or no `profiles`). */
function readProfiles(env: Readonly<Record<string, string | undefined>>): {
  path: string;
  profiles: Record<string, unknown> | undefined;
} {
  const { path, explicit } = configFilePath(env);
  let text: string;
  try {
    // Synchronous: a small file read on every run, where thread-pool round trips cost more.
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !explicit) return { path, profiles: undefined };
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      `Cannot read the config file ${path} (${code ?? "error"}).`,
      { cause },
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw invalid(path, "not valid JSON");
  }
  if (!document || typeof document !== "object" || Array.isArray(document))
    throw invalid(path, "not a JSON object");
  const profiles = (document as { profiles?: unknown }).profiles;
  if (profiles === undefined) return { path, profiles: undefined };
  if (!profiles || typeof profiles !== "object" || Array.isArray(profiles))
    throw invalid(path, '"profiles" is not an object');
  return { path, profiles: profiles as Record<string, unknown> };
}

/** The names of the config file's profiles, sorted; none when there is no file. */
export function profileNames(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(readProfiles(env).profiles ?? {}).sort();
}

/**
 * Reads profile `name` from the config file: `{"profiles": {"NAME": {"issuer": ..., "client-id": ..., "scope": ["openid"]}}}`.
 * Returns commander-style attributes (`clientId`), or `undefined` when there is no file or no
 * such profile. An unreadable or malformed file is a configuration error (exit 2).
 */
export async function loadProfile(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): Promise<Record<string, string | string[] | boolean> | undefined> {
  const { path, profiles } = readProfiles(env);
  const profile = profiles?.[name];
  if (profile === undefined) return undefined;
  if (!profile || typeof profile !== "object" || Array.isArray(profile))
    throw invalid(path, `profile "${name}" is not an object`);
  const result: Record<string, string | string[] | boolean> = {};
  for (const [key, value] of Object.entries(profile as Record<string, unknown>)) {
    if (!PROFILE_KEYS.includes(key))
      throw invalid(path, `profile "${name}" has an unknown key "${key}"`);
    if (BOOLEAN_KEYS.has(key)) {
      if (typeof value !== "boolean") throw invalid(path, `"${key}" must be true or false`);
      result[attributeName(key)] = value;
    } else if (LIST_KEYS.has(key)) {
      const list = typeof value === "string" ? [value] : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === "string"))
        throw invalid(path, `"${key}" must be a string or a list of strings`);
      result[attributeName(key)] = list as string[];
    } else if (typeof value === "string" || typeof value === "number") {
      result[attributeName(key)] = String(value);
    } else {
      throw invalid(path, `"${key}" must be a string`);
    }
  }
  return result;
}
