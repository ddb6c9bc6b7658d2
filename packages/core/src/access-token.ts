import type { ClientOptions } from "./config.js";
import {
  type CredentialKey,
  type Credentials,
  credentialKeyId,
  isExpiring,
  type TokenStore,
} from "./credentials.js";
import type { ServerMetadata } from "./discovery.js";
import { ErrorCode, LoginRequiredError, ProtocolError, TransportError } from "./errors.js";
import { tableFor } from "./tables.js";
import type { RefreshOptions } from "./tokens.js";

/**
 * A cross-process lock around read → expiry check → refresh → persist (S40), implemented by
 * `@latchkey/keyring-store` (a `.lock` file). `acquire` resolves once the lock is held and returns
 * the function that releases it.
 */
export interface CredentialLock {
  /**
   * Waits until this process holds the lock of `key` (or `signal` aborts: `ABORTED`) and
   * resolves to the function that releases it. Released in a `finally`, whatever happened.
   */
  acquire(key: CredentialKey, options?: { signal?: AbortSignal }): Promise<() => Promise<void>>;
}

/** Where the returned credentials came from. */
export type CredentialsSource = "store" | "refresh" | "login";

/** Options of {@link getAccessToken}. */
export interface GetAccessTokenOptions {
  /** Where credentials are kept. */
  store: TokenStore;
  /** Which credentials. */
  key: CredentialKey;
  /** The client (used for refresh). */
  client: ClientOptions;
  /**
   * The authorization server, fetched only when a refresh is needed, so that the hot path
   * (a valid stored token) makes no request at all.
   */
  server: () => Promise<ServerMetadata>;
  /** The token must stay valid this many seconds, else it is refreshed. Default 60 (S36). */
  minValiditySeconds?: number;
  /** Runs an interactive login. Without it, a needed login throws `LOGIN_REQUIRED`. */
  login?: () => Promise<Credentials>;
  /** Refresh even when the stored token is still valid. */
  forceRefresh?: boolean;
  /** Cancels refresh requests. */
  signal?: AbortSignal;
  /**
   * Held around refresh or login, so that several processes sharing a store make one refresh
   * (S40). The store is read again once it is held.
   */
  lock?: CredentialLock;
}

/** What {@link getAccessToken} returns. */
export interface AccessTokenResult {
  /** Valid credentials, already persisted. */
  credentials: Credentials;
  /** Whether they were stored, refreshed or obtained by a login. */
  source: CredentialsSource;
  /**
   * Why the stored credentials are returned although they expire within `minValiditySeconds`:
   * the refresh failed for a transient reason (network, timeout, 5xx: nothing was deleted) while
   * the access token is still valid. `source` is then `store`. Show it as a warning; the next
   * call tries again. Never set with `forceRefresh`, which throws the error instead, nor when
   * the access token has expired.
   */
  refreshError?: TransportError;
}

const inFlight = new WeakMap<TokenStore, Map<string, Promise<AccessTokenResult>>>();

/**
 * Gives valid credentials: the stored ones while they stay valid for `minValiditySeconds`, else
 * a refresh, else the injected interactive login. Whatever is obtained is persisted before it
 * is returned (S37). A rejected refresh (`invalid_grant`) re-reads the store and retries once if
 * another process rotated the token meanwhile, otherwise drops the refresh token and logs in
 * (S41); a network error or 5xx never discards anything (S33), and while the stored access
 * token has not expired it is returned with the error in `refreshError`. A refresh whose answer
 * is refused after the server rotated the refresh token stores the new refresh token and throws
 * (see `RefreshOptions.saveRotated`). Concurrent callers in this process for the same store and
 * key share one refresh or login; with a `lock`, processes sharing the store do too (S40).
 *
 * @throws {@link LoginRequiredError} `LOGIN_REQUIRED` when a login is needed and no `login` was given.
 * @throws {@link ProtocolError} from a refresh or the login (`INVALID_CLIENT`, `INVALID_RESPONSE`,
 * `INVALID_ID_TOKEN`, ...); {@link StoreError} `STORE_CORRUPT`, `STORE_UNAVAILABLE`.
 * @throws {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`, unless the stored access token is still valid (then `refreshError`).
 *
 * @example
 * ```ts
 * const { credentials } = await getAccessToken({ store, key, client, server: () => resolveServer(client), login });
 * ```
 */
export function getAccessToken(options: GetAccessTokenOptions): Promise<AccessTokenResult> {
  const table = tableFor(inFlight, options.store);
  const id = credentialKeyId(options.key);
  const running = table.get(id);
  if (running) return running;
  const promise = obtain(options).finally(() => table.delete(id));
  table.set(id, promise);
  return promise;
}

async function obtain(options: GetAccessTokenOptions): Promise<AccessTokenResult> {
  const { store, key } = options;
  const now = options.client.now ?? Date.now;
  const minValiditySeconds = options.minValiditySeconds ?? 60;
  const first = await store.get(key);
  if (first && !options.forceRefresh && !isExpiring(first, { minValiditySeconds, now: now() })) {
    return { credentials: first, source: "store" };
  }
  if (!options.lock) return renew(first, options);
  const lockOptions: { signal?: AbortSignal } = {};
  if (options.signal) lockOptions.signal = options.signal;
  const release = await options.lock.acquire(key, lockOptions);
  try {
    // Another process may have refreshed while this one waited (S40).
    const current = await store.get(key);
    const renewedElsewhere = current?.accessToken !== first?.accessToken;
    if (
      current &&
      (!options.forceRefresh || renewedElsewhere) &&
      !isExpiring(current, { minValiditySeconds, now: now() })
    ) {
      return { credentials: current, source: "store" };
    }
    return await renew(current, options);
  } finally {
    await release();
  }
}

async function renew(
  stored: Credentials | undefined,
  options: GetAccessTokenOptions,
): Promise<AccessTokenResult> {
  const { store, key } = options;
  if (stored?.refreshToken) {
    let refreshed: Credentials | undefined;
    try {
      refreshed = await refreshWithRetry(stored, options);
    } catch (error) {
      // A transient failure while the access token is still valid: use it (issue 12).
      if (
        error instanceof TransportError &&
        error.code !== ErrorCode.ABORTED &&
        !options.forceRefresh &&
        !isExpiring(stored, { minValiditySeconds: 0, now: (options.client.now ?? Date.now)() })
      ) {
        return { credentials: stored, source: "store", refreshError: error };
      }
      throw error;
    }
    if (refreshed) return { credentials: refreshed, source: "refresh" };
  }
  if (!options.login) {
    throw new LoginRequiredError(
      ErrorCode.LOGIN_REQUIRED,
      stored ? "The session expired and cannot be refreshed; log in again." : "Not logged in.",
    );
  }
  const credentials = await options.login();
  await store.set(key, credentials);
  return { credentials, source: "login" };
}

async function refreshWithRetry(
  stored: Credentials,
  options: GetAccessTokenOptions,
): Promise<Credentials | undefined> {
  let current = stored;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // Loaded on first use: a valid stored token (the hot path) needs no protocol code at all.
      const { refreshCredentials } = await import("./tokens.js");
      const refreshOptions: RefreshOptions = {
        client: options.client,
        server: await options.server(),
        saveRotated: (kept) => options.store.set(options.key, kept),
      };
      if (options.signal) refreshOptions.signal = options.signal;
      const fresh = await refreshCredentials(current, refreshOptions);
      await options.store.set(options.key, fresh);
      return fresh;
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.code !== ErrorCode.INVALID_GRANT) throw error;
      const reread = await options.store.get(options.key);
      if (attempt === 0 && reread?.refreshToken && reread.refreshToken !== current.refreshToken) {
        current = reread;
        continue;
      }
      // The refresh token is dead: keep the rest of the record but never retry this token (S41).
      const { refreshToken: _dead, ...rest } = reread ?? current;
      await options.store.set(options.key, rest);
      if (!options.login) throw error;
      return undefined;
    }
  }
  return undefined;
}
