import {
  type AccessTokenResult,
  type GetAccessTokenOptions,
  getAccessTokenWith,
} from "./access-token.js";

/**
 * Gives valid credentials: the stored ones while they stay valid for `minValiditySeconds`, else
 * a refresh, else the injected interactive login. Whatever is obtained is persisted before it
 * is returned (S37). A rejected refresh (`invalid_grant`) re-reads the store and retries once if
 * another process rotated the token meanwhile, otherwise drops the refresh token and logs in
 * (S41); a network error or 5xx never discards anything (S33), and while the stored access
 * token has not expired it is returned with the error in `refreshError`. A refresh whose answer
 * is refused after the server rotated the refresh token stores the new refresh token and throws
 * (see `RefreshOptions.saveRotated`). Concurrent callers in this process for the same store and
 * key share one refresh or login (with the main entry's `getAccessToken` too); with a `lock`,
 * processes sharing the store do too (S40). The refresh code
 * (oauth4webapi, zod) is loaded on first use: a valid stored token, the hot path, loads none.
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
  return getAccessTokenWith(options, async (credentials, refreshOptions) =>
    (await import("./tokens.js")).refreshCredentials(credentials, refreshOptions),
  );
}
