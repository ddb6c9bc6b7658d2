import { resolve, sep } from "node:path";
import { ErrorCode, StoreError, type TokenStore } from "@latchkey/core/store";
import { KeyringUnavailableError, summarizeKeyringFailure } from "./backend.js";
import { defaultStoreDirectory, type StoreEnvironment } from "./directory.js";
import { FileTokenStore } from "./file.js";
import { type OpenKeyringTokenStoreOptions, openKeyringTokenStore } from "./keyring.js";
import { MemoryTokenStore } from "./memory.js";

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
  /**
   * The keyring store (`auto`, `keyring`): which library, service name, entry limit, probe
   * timeout. Default: keytar, else `@napi-rs/keyring`, service `latchkey`.
   */
  keyring?: OpenKeyringTokenStoreOptions;
}

/** What {@link createTokenStore} returns. */
export interface CreatedTokenStore {
  /** The store to use. */
  store: TokenStore;
  /**
   * A one-line notice for the user when the store is not the one they might expect (the file
   * fallback of `auto`, with the reason). The library never prints it; the CLI writes it to
   * stderr.
   */
  notice?: string;
}

/**
 * Opens the store of a kind.
 *
 * - `keyring`: the OS keyring once a probe (write, then delete) passed, else throws a
 *   {@link KeyringUnavailableError} (`STORE_UNAVAILABLE`) saying why and what to do.
 * - `auto`: the same keyring when the probe passes; otherwise the file store with a one-line
 *   {@link CreatedTokenStore.notice | notice} that says why, never silently (S38).
 * - `file`: a {@link FileTokenStore} in `directory` (default {@link defaultStoreDirectory}).
 * - `memory`: a {@link MemoryTokenStore}.
 *
 * @throws {@link KeyringUnavailableError} (`STORE_UNAVAILABLE`, with a `reason`) for `keyring`;
 * `StoreError` `STORE_UNAVAILABLE` for an unknown kind or when no store directory can be found
 * (no `$HOME`). `auto` never throws for an unusable keyring: it falls back, with a `notice`.
 *
 * @example
 * ```ts
 * const { store, notice } = await createTokenStore({ kind: "auto", directory: storeDir });
 * if (notice !== undefined) showNotice(notice); // the library itself never prints
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
    case "keyring":
      return { store: await openKeyringTokenStore(keyringOptions(options)) };
    case "auto": {
      try {
        return { store: await openKeyringTokenStore(keyringOptions(options)) };
      } catch (error) {
        if (!(error instanceof KeyringUnavailableError)) throw error;
        const store = fileStore(options);
        return {
          store,
          notice: `The OS keyring is not usable (${summarizeKeyringFailure(error)}); credentials are stored in files under ${store.directory}${sep} (mode 0600).`,
        };
      }
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

function keyringOptions(options: CreateTokenStoreOptions): OpenKeyringTokenStoreOptions {
  const keyring = options.keyring ?? {};
  return keyring.env === undefined && options.env !== undefined
    ? { ...keyring, env: options.env }
    : keyring;
}

function fileStore(options: CreateTokenStoreOptions): FileTokenStore {
  const directory =
    options.directory !== undefined && options.directory !== ""
      ? resolve(options.directory)
      : defaultStoreDirectory(options.env ?? process.env, options.homedir);
  return new FileTokenStore({ directory });
}
