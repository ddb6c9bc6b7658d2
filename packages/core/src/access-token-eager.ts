import {
  type AccessTokenResult,
  type GetAccessTokenOptions,
  getAccessTokenWith,
} from "./access-token.js";
import { refreshCredentials } from "./tokens.js";

/**
 * {@inheritDoc getAccessToken}
 *
 * The main entry's `getAccessToken`: the same function as `@latchkey/core/store`'s (one
 * single-flight table for both), with the refresh code loaded with the entry instead of on first
 * use, so that a browser bundle needs no lazily initialized modules.
 *
 * @example
 * ```ts
 * const { credentials } = await getAccessToken({ store, key, client, server: () => resolveServer(client), login });
 * ```
 */
export function getAccessToken(options: GetAccessTokenOptions): Promise<AccessTokenResult> {
  return getAccessTokenWith(options, refreshCredentials);
}
