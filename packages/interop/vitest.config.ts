import { vitestPreset } from "@latchkey/test-utils/vitest-preset";

// A hang guard, not a time limit: these tests run the real bin several times each, which on a
// loaded 2-core machine takes tens of seconds. One file at a time: the files share nothing, but
// each keeps both cores busy with CLI processes and oidc-provider, and in parallel they only
// contended (256 s one at a time, 280 s two at a time on this machine, the sentinel test then
// past its own 40 s guard).
export default vitestPreset({ testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false });
