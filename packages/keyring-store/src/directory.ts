import { homedir as osHomedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { ErrorCode, StoreError } from "@latchkey/core/store";

/** The environment variables this package reads (`XDG_DATA_HOME`); `process.env` fits. */
export type StoreEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The file store's default directory: `$XDG_DATA_HOME/latchkey` when `XDG_DATA_HOME` is an
 * absolute path, else `~/.local/share/latchkey`. A relative `XDG_DATA_HOME` is ignored, as the
 * XDG Base Directory specification requires.
 *
 * @param env - The environment; default `process.env`.
 * @param homedir - The home directory; default `os.homedir()`.
 * @example
 * ```ts
 * defaultStoreDirectory({ XDG_DATA_HOME: "/data" }); // "/data/latchkey"
 * defaultStoreDirectory({}, "/home/ada"); // "/home/ada/.local/share/latchkey"
 * ```
 */
export function defaultStoreDirectory(
  env: StoreEnvironment = process.env,
  homedir?: string,
): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && xdg !== "" && isAbsolute(xdg)) return join(xdg, "latchkey");
  let home = homedir;
  if (home === undefined) {
    try {
      home = osHomedir();
    } catch {
      home = "";
    }
  }
  if (home === "" || !isAbsolute(home)) {
    throw new StoreError(
      ErrorCode.STORE_UNAVAILABLE,
      "Cannot tell where to keep credentials: there is no home directory. Set XDG_DATA_HOME or choose a store directory (--store-dir).",
    );
  }
  return join(home, ".local", "share", "latchkey");
}
