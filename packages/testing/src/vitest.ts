import { afterAll, beforeAll, beforeEach, onTestFinished } from "vitest";
import {
  type RunningFakeAuthorizationServer,
  type StartFakeAuthorizationServerOptions,
  startFakeAuthorizationServer,
} from "./listener.js";

/** What {@link useFakeAuthorizationServer} returns: the server of the current file or `describe`. */
export interface FakeAuthorizationServerFixture {
  /** The running server. @throws Error when read outside a test (before `beforeAll` ran). */
  readonly server: RunningFakeAuthorizationServer;
}

/**
 * Starts one fake authorization server for the current test and closes it when the test
 * finishes (with `onTestFinished`). Call it inside a test.
 *
 * @param options - As for `startFakeAuthorizationServer`.
 * @returns The running server.
 *
 * @example
 * ```ts
 * import { fakeAuthorizationServerForTest } from "@latchkey/testing/vitest";
 * it("logs in", async () => {
 *   const server = await fakeAuthorizationServerForTest({ faults: ["token:5xx"] });
 * });
 * ```
 */
export async function fakeAuthorizationServerForTest(
  options: StartFakeAuthorizationServerOptions = {},
): Promise<RunningFakeAuthorizationServer> {
  const server = await startFakeAuthorizationServer(options);
  onTestFinished(() => server.close());
  return server;
}

/**
 * Starts one fake authorization server for the enclosing file or `describe` (`beforeAll`), closes
 * it afterwards (`afterAll`), and calls `server.reset()` before each test so that faults, hooks,
 * overrides and the request log of one test never leak into the next.
 *
 * @param options - As for `startFakeAuthorizationServer`.
 * @returns A fixture whose `server` is the running server inside tests.
 *
 * @example
 * ```ts
 * import { useFakeAuthorizationServer } from "@latchkey/testing/vitest";
 * const idp = useFakeAuthorizationServer();
 * it("refuses a wrong iss", async () => {
 *   idp.server.setFault("authorize:iss-wrong", { times: 1 });
 * });
 * ```
 */
export function useFakeAuthorizationServer(
  options: StartFakeAuthorizationServerOptions = {},
): FakeAuthorizationServerFixture {
  let current: RunningFakeAuthorizationServer | undefined;
  beforeAll(async () => {
    current = await startFakeAuthorizationServer(options);
  });
  beforeEach(() => {
    current?.reset();
  });
  afterAll(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    get server(): RunningFakeAuthorizationServer {
      if (current === undefined) {
        throw new Error("the fake authorization server is only available inside tests");
      }
      return current;
    },
  };
}
