import { homedir as osHomedir } from "node:os";
import { isAbsolute, join, resolve, sep } from "node:path";
import { ErrorCode, StoreError, type TokenStore } from "@latchkey/core";
import { FileTokenStore } from "./file.js";
import { MemoryTokenStore } from "./memory.js";

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

/**
 * Which store to use: `auto` (the OS keyring when usable, else the file store, announced),
 * `keyring`, `file` or `memory`.
 */
export type TokenStoreKind = "auto" | "keyring" | "file" | "memory";

/** The kinds {@link createTokenStore} accepts, e.g. for validating a `--store` value. */
export const TOKEN_STORE_KINDS: readonly TokenStoreKind[] = ["auto", "keyring", "file", "memory"];

/** Options of {@link createTokenStore}. */
export interface CreateTokenStoreOptions {
  /** Which store to use. */
  kind: TokenStoreKind;
  /** The file store's directory; default {@link defaultStoreDirectory}. */
  directory?: string;
  /** The environment, for the default directory; default `process.env`. */
  env?: StoreEnvironment;
  /** The home directory, for the default directory; default `os.homedir()`. */
  homedir?: string;
}

/** What {@link createTokenStore} returns. */
export interface CreatedTokenStore {
  /** The store to use. */
  store: TokenStore;
  /**
   * A one-line notice for the user when the store is not the one they might expect (the file
   * fallback of `auto`). The library never prints it; the CLI writes it to stderr.
   */
  notice?: string;
}

/**
 * Opens the store of a kind. `auto` uses the OS keyring when it is usable and otherwise falls
 * back to the file store with a {@link CreatedTokenStore.notice | notice}, never silently (S38).
 * This build has no keyring backend yet: `auto` always falls back, and `keyring` throws a
 * {@link StoreError} `STORE_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * const { store, notice } = await createTokenStore({ kind: "auto", directory: storeDir });
 * if (notice !== undefined) process.stderr.write(`${notice}\n`);
 * ```
 */
export async function createTokenStore(
  options: CreateTokenStoreOptions,
): Promise<CreatedTokenStore> {
  const kind: TokenStoreKind = options.kind;
  switch (kind) {
    case "memory":
      return { store: new MemoryTokenStore() };
    case "file":
      return { store: fileStore(options) };
    case "keyring": {
      const keyring = await openKeyring();
      if (keyring.store !== undefined) return { store: keyring.store };
      throw new StoreError(
        ErrorCode.STORE_UNAVAILABLE,
        `The OS keyring backend is not available ${keyring.reason} yet; use --store file (or --store auto, which falls back to the file store).`,
      );
    }
    case "auto": {
      const keyring = await openKeyring();
      if (keyring.store !== undefined) return { store: keyring.store };
      const store = fileStore(options);
      return {
        store,
        notice: `The OS keyring is not available ${keyring.reason}; credentials are stored in files under ${store.directory}${sep} (mode 0600).`,
      };
    }
    default: {
      const unknown: never = kind;
      throw new StoreError(
        ErrorCode.STORE_UNAVAILABLE,
        `Unknown store kind ${JSON.stringify(unknown)}; use one of ${TOKEN_STORE_KINDS.join(", ")}.`,
      );
    }
  }
}

function fileStore(options: CreateTokenStoreOptions): FileTokenStore {
  const directory =
    options.directory !== undefined && options.directory !== ""
      ? resolve(options.directory)
      : defaultStoreDirectory(options.env ?? process.env, options.homedir);
  return new FileTokenStore({ directory });
}

/** The keyring probe. The keyring backend arrives later; until then it is never usable. */
async function openKeyring(): Promise<
  { store: TokenStore; reason?: never } | { store?: never; reason: string }
> {
  return { reason: "in this build" };
}
