// A recorder of interactiveLogin's events that tests can wait on (woken by each event, never
// polled).
import type { LoginEvent } from "../src/index.js";

/** Who waits for the next event of a recorder's list (woken by each event, never polled). */
const waiters = new WeakMap<LoginEvent[], Set<() => void>>();

export function recorder(): { events: LoginEvent[]; onEvent: (e: LoginEvent) => void } {
  const events: LoginEvent[] = [];
  const wake = new Set<() => void>();
  waiters.set(events, wake);
  return {
    events,
    onEvent: (e) => {
      events.push(e);
      for (const waiter of wake) waiter();
    },
  };
}

/** Resolves once `ready()` holds of a recorder's events (the test's timeout is the hang guard). */
export function until(events: LoginEvent[], ready: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const wake = waiters.get(events);
    const look = (): void => {
      if (!ready()) return;
      wake?.delete(look);
      resolve();
    };
    wake?.add(look);
    look();
  });
}

export async function nextEvent<T extends LoginEvent["type"]>(
  events: LoginEvent[],
  type: T,
  after = 0,
): Promise<Extract<LoginEvent, { type: T }>> {
  const found = (): LoginEvent | undefined => events.slice(after).find((e) => e.type === type);
  await until(events, () => found() !== undefined);
  return found() as Extract<LoginEvent, { type: T }>;
}

export const rejections = (events: LoginEvent[]): number =>
  events.filter((e) => e.type === "paste-rejected").length;
