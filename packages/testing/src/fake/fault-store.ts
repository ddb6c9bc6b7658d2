/**
 * The faults switched on, and the one place they are applied: the generic HTTP faults before an
 * endpoint answers ({@link FaultStore.httpFault}), the specific ones where a handler asks
 * ({@link FaultStore.take}). Every fault that fires is recorded in the request's log context.
 */
import {
  type FakeEndpoint,
  type FakeFaultName,
  type FakeFaultSpec,
  type FakeHttpFaultKind,
  isFakeFaultName,
} from "../faults.js";
import { htmlPage, json, NO_STORE } from "../http.js";

const HTTP_FAULT_KINDS: readonly FakeHttpFaultKind[] = [
  "5xx",
  "drop",
  "malformed-json",
  "html-error",
];
const DROPPED = Symbol.for("latchkey.fake-idp.dropped-connection");

/** Whether `error` is what the in-memory `fetch` throws for a `*:drop` fault (the listener then destroys the socket). */
export function isDroppedConnection(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    typeof error.cause === "object" &&
    error.cause !== null &&
    DROPPED in error.cause
  );
}

/** What the log records about one request while it is answered. */
export interface LogContext {
  params: Record<string, string>;
  grantType: string | undefined;
  readonly faults: FakeFaultName[];
  /** Set for tokens minted by `issueTokens`: no fault fires. */
  readonly noFaults?: boolean;
}

interface ActiveFault {
  readonly spec: FakeFaultSpec;
  remaining: number;
}

/**
 * Validates a fault and its scope.
 * @throws TypeError for an unknown fault name or a bad `times`, `delayMs` or `status`.
 */
export function normalizeFault(
  fault: FakeFaultName | FakeFaultSpec,
  scope: Omit<FakeFaultSpec, "name"> = {},
): FakeFaultSpec {
  const spec: FakeFaultSpec =
    typeof fault === "string" ? { name: fault, ...scope } : { ...fault, ...scope };
  if (!isFakeFaultName(spec.name)) {
    throw new TypeError(`unknown fault: ${String(spec.name)}`);
  }
  if (spec.times !== undefined && (!Number.isInteger(spec.times) || spec.times < 1)) {
    throw new TypeError(`fault ${spec.name}: times must be a positive integer`);
  }
  if (spec.delayMs !== undefined && (!Number.isFinite(spec.delayMs) || spec.delayMs < 0)) {
    throw new TypeError(`fault ${spec.name}: delayMs must be a non-negative number`);
  }
  if (
    spec.status !== undefined &&
    (!Number.isInteger(spec.status) || spec.status < 500 || spec.status > 599)
  ) {
    throw new TypeError(`fault ${spec.name}: status must be 500–599`);
  }
  return spec;
}

// Its own sleep, not `@latchkey/core/async`'s: the fake server shares no code with the client
// it tests (it does not depend on core), so that a bug in core cannot hide itself here.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The faults switched on, in the order they were set, with their uses left. */
export class FaultStore {
  readonly #faults: ActiveFault[] = [];

  /** Switches a fault on. @throws TypeError for a bad fault (see {@link normalizeFault}). */
  add(fault: FakeFaultName | FakeFaultSpec, scope?: Omit<FakeFaultSpec, "name">): void {
    const spec = normalizeFault(fault, scope);
    this.#faults.push({ spec, remaining: spec.times ?? Number.POSITIVE_INFINITY });
  }

  /** Switches off every fault, or those named `name`. */
  clear(name?: FakeFaultName): void {
    for (let index = this.#faults.length - 1; index >= 0; index -= 1) {
      if (name === undefined || this.#faults[index]?.spec.name === name) {
        this.#faults.splice(index, 1);
      }
    }
  }

  /** The faults still on, with the uses left in `times` (absent: until cleared). */
  active(): readonly FakeFaultSpec[] {
    return this.#faults.map((fault) => {
      const { times: _times, ...rest } = fault.spec;
      return Number.isFinite(fault.remaining) ? { ...rest, times: fault.remaining } : rest;
    });
  }

  /** Consumes one use of the first active fault accepted by `match`; records it in the log context. */
  takeFirst(log: LogContext, match: (name: FakeFaultName) => boolean): FakeFaultSpec | undefined {
    const index = log.noFaults === true ? -1 : this.#faults.findIndex((f) => match(f.spec.name));
    const fault = this.#faults[index];
    if (fault === undefined) {
      return undefined;
    }
    fault.remaining -= 1;
    if (fault.remaining <= 0) {
      this.#faults.splice(index, 1);
    }
    log.faults.push(fault.spec.name);
    return fault.spec;
  }

  /** Consumes one use of the fault `name` if it is on; whether it was. */
  take(log: LogContext, name: FakeFaultName): boolean {
    return this.takeFirst(log, (candidate) => candidate === name) !== undefined;
  }

  /**
   * The `token:400-empty`, `token:401-empty` and `token:400-html` refusals: a token request (any
   * grant, its client authenticated) refused without an OAuth error body. `undefined`: none is on.
   */
  tokenRefusal(log: LogContext): Response | undefined {
    const refusal = this.takeFirst(log, (name) => name.startsWith("token:40"));
    if (refusal === undefined) {
      return undefined;
    }
    return refusal.name === "token:400-html"
      ? htmlPage(400, "400 Bad Request", "<p>The request was refused.</p>")
      : new Response(null, { status: refusal.name === "token:401-empty" ? 401 : 400 });
  }

  /**
   * The generic HTTP faults of `endpoint`: at most one delay (a fault without `times` would
   * otherwise never run out within the request), then the first replacing fault answers.
   * `undefined`: the endpoint answers normally.
   * @throws TypeError `fetch failed` for `*:drop` (see {@link isDroppedConnection}).
   */
  async httpFault(
    request: Request,
    endpoint: FakeEndpoint,
    log: LogContext,
  ): Promise<Response | undefined> {
    const delay = this.takeFirst(log, (name) => name === `${endpoint}:delay`);
    if (delay !== undefined) {
      await sleep(delay.delayMs ?? 1000, request.signal);
    }
    const fault = this.takeFirst(log, (name) =>
      HTTP_FAULT_KINDS.some((kind) => name === `${endpoint}:${kind}`),
    );
    const kind = fault?.name.slice(fault.name.lastIndexOf(":") + 1);
    switch (kind) {
      case undefined:
        return undefined;
      case "5xx":
        return json(
          fault?.status ?? 503,
          { error: "server_error", error_description: `scripted fault ${fault?.name}` },
          { ...NO_STORE, "retry-after": "1" },
        );
      case "drop": {
        const cause = Object.assign(new Error(`connection dropped by fault ${fault?.name}`), {
          code: "ECONNRESET",
          [DROPPED]: true,
        });
        throw new TypeError("fetch failed", { cause });
      }
      case "malformed-json":
        return new Response('{"', {
          status: 200,
          headers: { "content-type": "application/json", ...NO_STORE },
        });
      default:
        return htmlPage(502, "502 Bad Gateway", "<p>The upstream server did not answer.</p>");
    }
  }
}
