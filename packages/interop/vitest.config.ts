import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results.json" },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
