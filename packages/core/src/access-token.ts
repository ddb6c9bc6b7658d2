import { singleFlight } from "./async.js";
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

/** @internal `refreshCredentials`, or what loads it. */
export type Refresh = (credentials: Credentials, options: RefreshOptions) => Promise<Credentials>;

/**
 * @internal {@link getAccessToken} with the refresh it runs: the main entry passes
 * `refreshCredentials` itself (a bundler then needs no lazy module), `@latchkey/core/store`
 * loads it on first use. Both share one single-flight table.
 */
export function getAccessTokenWith(
  options: GetAccessTokenOptions,
  refresh: Refresh,
): Promise<AccessTokenResult> {
  return singleFlight(tableFor(inFlight, options.store), credentialKeyId(options.key), () =>
    obtain(options, refresh),
  );
}

async function obtain(
  options: GetAccessTokenOptions,
  refresh: Refresh,
): Promise<AccessTokenResult> {
  const { store, key } = options;
  const now = options.client.now ?? Date.now;
  const minValiditySeconds = options.minValiditySeconds ?? 60;
  const first = await store.get(key);
  if (first && !options.forceRefresh && !isExpiring(first, { minValiditySeconds, now: now() })) {
    return { credentials: first, source: "store" };
  }
  if (!options.lock) return renew(first, options, refresh);
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
    return await renew(current, options, refresh);
  } finally {
    await release();
  }
}

async function renew(
  stored: Credentials | undefined,
  options: GetAccessTokenOptions,
  refresh: Refresh,
): Promise<AccessTokenResult> {
  const { store, key } = options;
  if (stored?.refreshToken) {
    let refreshed: Credentials | undefined;
    try {
      refreshed = await refreshWithRetry(stored, options, refresh);
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
  refresh: Refresh,
): Promise<Credentials | undefined> {
  let current = stored;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const refreshOptions: RefreshOptions = {
        client: options.client,
        server: await options.server(),
        saveRotated: (kept) => options.store.set(options.key, kept),
      };
      if (options.signal) refreshOptions.signal = options.signal;
      const fresh = await refresh(current, refreshOptions);
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
