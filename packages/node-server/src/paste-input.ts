import { createInterface } from "node:readline";
import {
  type AwaitingCallbackState,
  type CallbackVerdict,
  type CodeReceivedState,
  ErrorCode,
  type LatchkeyError,
  ProtocolError,
} from "@latchkey/core";
import { judgePastedCallback } from "@latchkey/core/callback";
import type { LoginEvent } from "./login-types.js";

// Pasted redirect addresses, read a line at a time from an input (the paste flow).

interface LineSource {
  next(): Promise<string | undefined>;
  close(): void;
}

function lines(input: NodeJS.ReadableStream): LineSource {
  const rl = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  const queue: string[] = [];
  const waiters: ((line: string | undefined) => void)[] = [];
  let ended = false;
  rl.on("line", (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else if (queue.length < 16) queue.push(line);
  });
  rl.on("close", () => {
    ended = true;
    for (const waiter of waiters.splice(0)) waiter(undefined);
  });
  return {
    next: () => {
      const line = queue.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push(resolve));
    },
    close: () => rl.close(),
  };
}

/** Reads pastes until one is accepted; `undefined` when the input ended (and `eofFails` is off) or `stop` fired. */
export async function readPastes(args: {
  input: NodeJS.ReadableStream;
  state: AwaitingCallbackState;
  maxAttempts: number;
  emit: (event: LoginEvent) => void;
  stop: AbortSignal;
  eofFails: boolean;
}): Promise<CodeReceivedState | undefined> {
  const source = lines(args.input);
  const onStop = (): void => source.close();
  args.stop.addEventListener("abort", onStop, { once: true });
  try {
    let lastCode: LatchkeyError["code"] = ErrorCode.CALLBACK_INVALID;
    for (let attempt = 1; attempt <= args.maxAttempts; ) {
      args.emit({
        type: "paste-prompt",
        redirectUri: args.state.redirectUri,
        attempt,
        maxAttempts: args.maxAttempts,
      });
      let verdict: CallbackVerdict | undefined;
      do {
        const line = await source.next();
        if (args.stop.aborted) return undefined;
        if (line === undefined) {
          if (!args.eofFails) return undefined;
          // End of input is a login not completed (exit 3), not an interrupt (130).
          throw new ProtocolError(
            ErrorCode.CALLBACK_INVALID,
            "No redirect address was pasted: the input ended before one was entered; the login was not completed.",
          );
        }
        verdict = judgePastedCallback(args.state, line);
      } while (verdict === undefined);
      switch (verdict.outcome) {
        case "accepted":
          return verdict.next;
        case "failed":
          throw verdict.error;
        case "ignored":
          lastCode = verdict.error.code;
          args.emit({
            type: "paste-rejected",
            reason: verdict.error.message,
            code: verdict.error.code,
            attemptsLeft: args.maxAttempts - attempt,
          });
          attempt++;
          break;
        default: {
          const unreachable: never = verdict;
          return unreachable;
        }
      }
    }
    throw new ProtocolError(
      lastCode,
      `No valid redirect address was pasted in ${args.maxAttempts} attempts; run the login again.`,
    );
  } finally {
    args.stop.removeEventListener("abort", onStop);
    source.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Authorization code (browser and paste)
