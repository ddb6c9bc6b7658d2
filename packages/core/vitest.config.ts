import { vitestPreset } from "@latchkey/test-utils/vitest-preset";

// test/browser runs in real Chromium (vitest.browser.config.ts). One file at a time: the files
// are CPU-bound (nothing to overlap on two cores), and the deadline tests of
// hostile-network.test.ts (0.3 s) ran out on the wrong request when files ran side by side.
export default vitestPreset({
  exclude: ["test/browser/**", "**/node_modules/**"],
  fileParallelism: false,
});
