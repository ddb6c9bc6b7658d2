/**
 * `@latchkey/core/async`: the waiting helpers every latchkey package shares, so that each exists
 * once: an unref'd timer, an abortable `sleep`, `withTimeout` and a single-flight table. Web APIs
 * only (they run in a browser as in Node); not part of the main entry, whose bundle does not
 * grow.
 *
 * @example
 * ```ts
 * import { sleep, withTimeout, singleFlight } from "@latchkey/core/async";
 * ```
 */

/**
 * Calls `run` once after `ms` on a timer that never keeps the process alive by itself: it is
 * `unref`ed where the runtime has `unref` (Node, Deno, Bun; browsers have no such notion).
 * Returns the function that clears it (calling it after the timer fired does nothing).
 *
 * @example
 * ```ts
 * const stop = startTimer(30_000, () => controller.abort());
 * try { await work(controller.signal); } finally { stop(); }
 * ```
 */
export function startTimer(ms: number, run: () => void): () => void {
  const timer = setTimeout(run, ms);
  (timer as unknown as { unref?(): void }).unref?.();
  return () => clearTimeout(timer);
}

/**
 * Resolves after `ms`, or rejects with `signal.reason` when the signal aborts before or during
 * the wait (the timer is then cleared and the listener removed). The timer keeps the process
 * alive, like any wait someone is awaiting.
 *
 * @example
 * ```ts
 * await sleep(5_000, signal).catch(() => { throw new TransportError(ErrorCode.ABORTED, "Cancelled."); });
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // Throwing here rejects the promise with the reason.
    signal?.throwIfAborted();
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * `promise`, or a rejection with `onTimeout()` when it has not settled within `ms`. The loser's
 * later rejection is handled (never an unhandled rejection), the timer is cleared as soon as
 * `promise` settles and never keeps the process alive by itself ({@link startTimer}).
 *
 * @example
 * ```ts
 * const socket = await withTimeout(connect(path), 5_000, () => new StoreError(ErrorCode.STORE_UNAVAILABLE, "No answer."));
 * ```
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  promise.catch(() => {});
  let stop = (): void => {};
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      stop = startTimer(ms, () => reject(onTimeout()));
    }),
  ]).finally(() => stop());
}

/**
 * Single flight: the promise of `start()` kept in `flights` under `key` while it runs, so that
 * every call for that key meanwhile gets that same promise (one refresh, one login) instead of
 * starting another. Once it settles, resolved or rejected, the key is forgotten: the next call
 * starts again.
 *
 * @example
 * ```ts
 * const refreshes = new Map<string, Promise<Credentials>>();
 * const refresh = (id: string) => singleFlight(refreshes, id, () => refreshCredentials(stored, options));
 * ```
 */
export function singleFlight<K, V>(
  flights: Map<K, Promise<V>>,
  key: K,
  start: () => Promise<V>,
): Promise<V> {
  let flight = flights.get(key);
  if (!flight) {
    flight = start().finally(() => {
      if (flights.get(key) === flight) flights.delete(key);
    });
    flights.set(key, flight);
  }
  return flight;
}
