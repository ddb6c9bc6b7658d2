/**
 * What latchkey's own test suites share (a private workspace package, never packed): spawning
 * the built CLI, a clean environment, temp dirs removed after each test, the CLI's argument
 * block and the fake-server fixture of `@latchkey/testing/vitest`. The vitest preset is
 * `@latchkey/test-utils/vitest-preset`.
 */
export {
  type FakeAuthorizationServerFixture,
  fakeAuthorizationServerForTest,
  useFakeAuthorizationServer,
} from "@latchkey/testing/vitest";
export { whenDone } from "./cleanup.js";
export { type CliTarget, cliArgs } from "./cli-args.js";
export { cleanEnv } from "./env.js";
export { testPublicApi } from "./public-api.js";
export { BIN, killAll, latchkey, type RunOptions, type RunResult, run } from "./spawn.js";
export { tempDir } from "./temp.js";
export { startTmux, type TmuxSession } from "./tmux.js";
export { fileAppears } from "./wait.js";
