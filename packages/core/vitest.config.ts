import { vitestPreset } from "@latchkey/test-utils/vitest-preset";

// test/browser runs in real Chromium (vitest.browser.config.ts).
export default vitestPreset({ exclude: ["test/browser/**", "**/node_modules/**"] });
