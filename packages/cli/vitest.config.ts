import { vitestPreset } from "@latchkey/test-utils/vitest-preset";

// A hang guard, not a time limit: these tests run the real bin several times each, which on a
// loaded 2-core machine takes tens of seconds.
export default vitestPreset({ testTimeout: 60_000, hookTimeout: 60_000 });
