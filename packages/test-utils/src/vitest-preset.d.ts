import type { ViteUserConfig } from "vitest/config";

/** The `test` options a package's vitest.config.ts may set on top of the preset. */
export type TestOverrides = NonNullable<ViteUserConfig["test"]>;

/**
 * The one vitest configuration of the workspace: `test/**\/*.test.ts`, the default and json
 * reporters (`.vitest-results.json`, which scripts/test-all.mjs totals), 20 s hang guards
 * (`testTimeout`/`hookTimeout`: not time limits), files in parallel on at least two workers, and
 * the setup file that removes what a file
 * made outside its tests. `overrides` replace single options (e.g. `testTimeout`,
 * `fileParallelism`); their `setupFiles` run after the preset's.
 *
 * @example
 * ```ts
 * import { vitestPreset } from "@latchkey/test-utils/vitest-preset";
 * export default vitestPreset({ testTimeout: 60_000, hookTimeout: 60_000 });
 * ```
 */
export declare function vitestPreset(overrides?: TestOverrides): ViteUserConfig;
