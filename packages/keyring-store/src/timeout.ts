/**
 * `promise`, or a rejection with `onTimeout()` when it has not settled within `ms`. The loser's
 * later rejection is ignored (never an unhandled rejection), and the timer never keeps the
 * process alive by itself.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  promise.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
