/** Internal: the state behind a server object, for tests and the memory bench (not exported by the package). */
import type { FakeState } from "./state.js";

const states = new WeakMap<object, FakeState>();

/** Links a server object to its state. */
export function linkState(server: object, state: FakeState): void {
  states.set(server, state);
}

/** How many entries each state table of `server` holds, and the log's length. */
export function stateSizes(server: object): Readonly<Record<string, number>> {
  const state = states.get(server);
  if (state === undefined) {
    throw new TypeError("not a fake authorization server");
  }
  return state.sizes();
}
