import { type FSWatcher, watch } from "node:fs";

/**
 * @internal How a waiter of {@link FileCredentialLock} waits between two attempts: the back-off
 * wait, cut short when the lock directory reports that a watched file was created or removed (a
 * holder released, or a stale lock was reaped), so that a waiter retries at once instead of
 * sleeping past the release.
 */
export interface LockWait {
  /** Whether a directory watcher is armed (`false`: the back-off alone, e.g. `fs.watch` failed). */
  readonly watching: boolean;
  /** Forgets the events seen so far: call it just before an attempt. */
  reset(): void;
  /**
   * Resolves after `ms` (to `false`), or at once when a watched file changed since the last
   * {@link reset} or changes during the wait (to `true`); rejects with `signal.reason` when the
   * signal aborts.
   */
  wait(ms: number, signal?: AbortSignal): Promise<boolean>;
  /** Closes the watcher; the waits still work, with the back-off alone. Idempotent. */
  close(): void;
}

/**
 * @internal Arms a watcher on `directory` (`fs.watch`: inotify, kqueue, FSEvents, Windows'
 * ReadDirectoryChangesW) for the creation or removal of the files named `names`. The watcher
 * never keeps the process alive by itself (not persistent). When `fs.watch` is unavailable or
 * fails (later too), the waits fall back to their timer: a watcher can miss events (network file
 * systems have none), so callers keep a bounded back-off either way.
 */
export function lockWait(directory: string, names: readonly string[], enabled = true): LockWait {
  let watcher: FSWatcher | undefined;
  let changed = false;
  let wake: (() => void) | undefined;
  const close = (): void => {
    const current = watcher;
    watcher = undefined;
    current?.close();
  };
  if (enabled) {
    try {
      watcher = watch(directory, { persistent: false }, (event, filename) => {
        // "rename": created or removed; "change" (a write, the heartbeat's utimes) frees nothing.
        // No name (some platforms): perhaps ours.
        if (event !== "rename" || (filename != null && !names.includes(String(filename)))) return;
        changed = true;
        wake?.();
      });
      watcher.on("error", () => {
        close();
        wake?.(); // retry at once, then wait with the back-off alone
      });
    } catch {
      watcher = undefined; // no watcher here (unsupported, out of watches): the back-off alone
    }
  }
  return {
    get watching() {
      return watcher !== undefined;
    },
    reset(): void {
      changed = false;
    },
    wait(ms: number, signal?: AbortSignal): Promise<boolean> {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        if (changed) {
          resolve(true);
          return;
        }
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          wake = undefined;
        };
        const onAbort = (): void => {
          done();
          reject(signal?.reason);
        };
        // The timer keeps the process alive, like any wait someone is awaiting.
        const timer = setTimeout(() => {
          done();
          resolve(false);
        }, ms);
        wake = () => {
          done();
          resolve(true);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    close,
  };
}
