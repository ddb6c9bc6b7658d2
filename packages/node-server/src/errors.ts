/**
 * The error codes `@latchkey/node-server` owns, beside core's `ErrorCode` (its errors are
 * `LatchkeyError<NodeServerErrorCode>`). Stable strings, as core's are.
 *
 * @example
 * ```ts
 * try { await startCallbackServer({ port: 8400 }); } catch (e) {
 *   if (e instanceof LatchkeyError && e.code === NodeServerErrorCode.PORT_IN_USE) { ... }
 * }
 * ```
 */
export const NodeServerErrorCode = {
  /** The loopback port (or every port of the list) is taken. */
  PORT_IN_USE: "PORT_IN_USE",
  /** The browser (or the configured opener) could not be started. */
  BROWSER_FAILED: "BROWSER_FAILED",
} as const;

/** One of the values of {@link NodeServerErrorCode}. */
export type NodeServerErrorCode = (typeof NodeServerErrorCode)[keyof typeof NodeServerErrorCode];
