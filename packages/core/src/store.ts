/**
 * `@latchkey/core/store`: the credentials, the store contract, the coded errors and
 * `getAccessToken`, without any protocol code. What a store implementation or the hot path of
 * `latchkey token` needs loads nothing else: no oauth4webapi, no zod (a refresh loads them on
 * first use).
 *
 * @example
 * ```ts
 * import { type TokenStore, parseStoredCredentials, serializeCredentials } from "@latchkey/core/store";
 * ```
 */
export { getAccessToken } from "./access-token-lazy.js";
export * from "./store-shared.js";
