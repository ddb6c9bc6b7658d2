import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/browser runs in real Chromium (vitest.browser.config.ts).
    exclude: ["test/browser/**", "**/node_modules/**"],
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results.json" },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
