// @latchkey/core/async in real Chromium: its timers have no unref there, and it still works.
import { describe, expect, it } from "vitest";
import { singleFlight, sleep, startTimer, withTimeout } from "../../src/async.js";

describe("@latchkey/core/async in real Chromium", () => {
  it("startTimer fires once (no unref in a browser) and its stop function clears it", async () => {
    const fired: string[] = [];
    const stop = startTimer(1, () => fired.push("stopped"));
    stop();
    await new Promise<void>((resolve) => startTimer(5, resolve));
    expect(fired).toEqual([]);
  });

  it("sleep resolves, and rejects with the signal's reason when it aborts", async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    const reason = new Error("cancelled");
    controller.abort(reason);
    await expect(slept).rejects.toBe(reason);
    await expect(sleep(1, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it("withTimeout gives the value in time, onTimeout() when late", async () => {
    await expect(withTimeout(Promise.resolve("v"), 60_000, () => new Error("late"))).resolves.toBe(
      "v",
    );
    await expect(withTimeout(new Promise(() => {}), 1, () => new Error("late"))).rejects.toThrow(
      "late",
    );
  });

  it("singleFlight shares one promise per key and forgets it once settled", async () => {
    const flights = new Map<string, Promise<number>>();
    let runs = 0;
    const start = async (): Promise<number> => ++runs;
    const first = singleFlight(flights, "k", start);
    expect(singleFlight(flights, "k", start)).toBe(first);
    expect(await first).toBe(1);
    expect(flights.size).toBe(0);
    expect(await singleFlight(flights, "k", start)).toBe(2);
  });
});
