import { tempDir } from "./temp.js";

/** Inherited variables that change what the CLI does: a user's display, browser, proxy, config. */
const DROPPED: readonly string[] = [
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "BROWSER",
  "SSH_CONNECTION",
  "SSH_TTY",
  "KUBERNETES_EXEC_INFO",
  "NODE_EXTRA_CA_CERTS",
];
const DROPPED_PREFIXES: readonly string[] = ["LATCHKEY_", "XDG_"];
const PROXY = /^(?:https?|all|no)_proxy$/i;

/**
 * The environment of a user without a display, a browser, colours, proxies or any `LATCHKEY_*`
 * or `XDG_*` variable, whose HOME is a private temp dir (so no real config file or store is
 * read). `extra` is added last: a test sets exactly what it is about.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (
      DROPPED.includes(name) ||
      DROPPED_PREFIXES.some((prefix) => name.startsWith(prefix)) ||
      PROXY.test(name)
    )
      delete env[name];
  }
  return { ...env, NO_COLOR: "1", HOME: tempDir("latchkey-home-"), ...extra };
}
