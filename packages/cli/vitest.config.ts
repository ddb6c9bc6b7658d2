import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results.json" },
    // A hang guard, not a time limit: these tests run the real bin several times each, which on
    // a loaded 2-core machine takes tens of seconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
