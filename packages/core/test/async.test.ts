import { afterEach, describe, expect, it, vi } from "vitest";
import { singleFlight, sleep, startTimer, withTimeout } from "../src/async.js";

// Fake timers: what is checked is the order of events, never how long anything took.
afterEach(() => {
  vi.useRealTimers();
});

/** Whether a promise has settled, without waiting for it. */
async function state(promise: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  const pending = Symbol();
  return Promise.race([promise, Promise.resolve(pending)]).then(
    (value) => (value === pending ? "pending" : "resolved"),
    () => "rejected",
  );
}

/** Collects the unhandled rejections and warnings of the process while `run` runs. */
async function watchProcess(run: () => Promise<void>): Promise<{
  unhandled: unknown[];
  warnings: Error[];
}> {
  const unhandled: unknown[] = [];
  const warnings: Error[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on("unhandledRejection", onUnhandled);
  process.on("warning", onWarning);
  try {
    await run();
    // Unhandled rejections and warnings are reported on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", onUnhandled);
    process.off("warning", onWarning);
  }
  return { unhandled, warnings };
}

describe("startTimer", () => {
  it("runs once after ms, and the returned function stops it before", async () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    startTimer(100, () => fired.push("a"));
    const stop = startTimer(100, () => fired.push("b"));
    stop();
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["a"]);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual(["a"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never keeps the process alive by itself (unref'd in Node)", () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    const stop = startTimer(60_000, () => {});
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    stop();
  });
});

describe("sleep", () => {
  it("resolves after ms, not before", async () => {
    vi.useFakeTimers();
    const slept = sleep(1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await state(slept)).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(await state(slept)).toBe("resolved");
  });

  it("rejects with the signal's reason when it is already aborted, starting no timer", async () => {
    vi.useFakeTimers();
    const reason = new Error("stop");
    const slept = sleep(1000, AbortSignal.abort(reason));
    expect(vi.getTimerCount()).toBe(0);
    await expect(slept).rejects.toBe(reason);
  });

  it("rejects with the signal's reason when it aborts during the wait, and clears the timer", async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const slept = sleep(1000, controller.signal);
    await vi.advanceTimersByTimeAsync(500);
    expect(await state(slept)).toBe("pending");
    const reason = new Error("cancelled");
    controller.abort(reason);
    await expect(slept).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps the process alive while it waits (a device poll must not end the CLI)", () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(true);
    controller.abort();
    return expect(slept).rejects.toBeDefined();
  });

  it("removes its listener once it resolves: 50 sleeps on one signal, no listener-leak warning", async () => {
    const controller = new AbortController();
    const { warnings } = await watchProcess(async () => {
      for (let i = 0; i < 50; i++) await sleep(0, controller.signal);
    });
    expect(warnings.map((warning) => warning.name)).not.toContain("MaxListenersExceededWarning");
    // Aborting afterwards reaches no finished sleep.
    controller.abort();
  });
});

describe("withTimeout", () => {
  it("gives the promise's value when it settles in time, and clears the timer", async () => {
    vi.useFakeTimers();
    const result = withTimeout(Promise.resolve(42), 1000, () => new Error("late"));
    await expect(result).resolves.toBe(42);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("gives the promise's rejection when it rejects in time", async () => {
    const error = new Error("failed");
    await expect(withTimeout(Promise.reject(error), 1000, () => new Error("late"))).rejects.toBe(
      error,
    );
  });

  it("rejects with onTimeout() when the promise is late; the loser's later rejection is never unhandled", async () => {
    let rejectLate: (reason: unknown) => void = () => {};
    const late = new Promise<never>((_, reject) => {
      rejectLate = reject;
    });
    const timeout = new Error("timed out");
    const { unhandled } = await watchProcess(async () => {
      await expect(withTimeout(late, 1, () => timeout)).rejects.toBe(timeout);
      rejectLate(new Error("the loser"));
    });
    expect(unhandled).toEqual([]);
  });

  it("calls onTimeout only when the time is over", async () => {
    vi.useFakeTimers();
    const onTimeout = vi.fn(() => new Error("late"));
    const result = withTimeout(new Promise(() => {}), 1000, onTimeout);
    result.catch(() => {});
    await vi.advanceTimersByTimeAsync(999);
    expect(onTimeout).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onTimeout).toHaveBeenCalledOnce();
    await expect(result).rejects.toThrow("late");
  });

  it("never keeps the process alive by itself (its timer is unref'd)", async () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    let finish: (value: string) => void = () => {};
    const result = withTimeout(
      new Promise<string>((resolve) => {
        finish = resolve;
      }),
      60_000,
      () => new Error("late"),
    );
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    finish("done");
    await expect(result).resolves.toBe("done");
  });
});

describe("singleFlight", () => {
  it("shares one promise per key while it runs, and starts each key apart", async () => {
    const flights = new Map<string, Promise<string>>();
    const finish: Record<string, (value: string) => void> = {};
    const start = vi.fn(
      (key: string) => () =>
        new Promise<string>((resolve) => {
          finish[key] = resolve;
        }),
    );
    const a1 = singleFlight(flights, "a", start("a"));
    const a2 = singleFlight(flights, "a", start("a"));
    const b = singleFlight(flights, "b", start("b"));
    expect(a2).toBe(a1);
    expect(b).not.toBe(a1);
    expect(Object.keys(finish)).toEqual(["a", "b"]);
    finish.a?.("A");
    finish.b?.("B");
    expect(await Promise.all([a1, a2, b])).toEqual(["A", "A", "B"]);
  });

  it("forgets a key once its promise resolves: the next call starts again", async () => {
    const flights = new Map<string, Promise<number>>();
    let runs = 0;
    const start = async (): Promise<number> => ++runs;
    expect(await singleFlight(flights, "k", start)).toBe(1);
    expect(flights.size).toBe(0);
    expect(await singleFlight(flights, "k", start)).toBe(2);
    expect(flights.size).toBe(0);
  });

  it("forgets a key once its promise rejects too; every caller gets the rejection", async () => {
    const flights = new Map<string, Promise<number>>();
    const error = new Error("refresh failed");
    let runs = 0;
    const failing = async (): Promise<number> => {
      runs++;
      throw error;
    };
    const first = singleFlight(flights, "k", failing);
    const joined = singleFlight(flights, "k", failing);
    expect(joined).toBe(first);
    await expect(first).rejects.toBe(error);
    await expect(joined).rejects.toBe(error);
    expect(runs).toBe(1);
    expect(flights.size).toBe(0);
    await expect(singleFlight(flights, "k", async () => 7)).resolves.toBe(7);
  });

  it("a settling flight never removes a newer flight of the same key", async () => {
    const flights = new Map<string, Promise<string>>();
    let finishOld: (value: string) => void = () => {};
    const old = singleFlight(
      flights,
      "k",
      () =>
        new Promise<string>((resolve) => {
          finishOld = resolve;
        }),
    );
    flights.delete("k");
    const newer = singleFlight(flights, "k", () => new Promise<string>(() => {}));
    finishOld("old");
    await old;
    expect(flights.get("k")).toBe(newer);
  });
});
