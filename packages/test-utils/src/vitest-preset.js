// Plain JavaScript (typed by vitest-preset.d.ts): vitest.config.ts files load it before any
// TypeScript transform is in place, with the Node.js that runs vitest.
import { fileURLToPath } from "node:url";

const SETUP = fileURLToPath(new URL("./setup.ts", import.meta.url));

/** @type {import("./vitest-preset.d.ts").vitestPreset} */
export function vitestPreset(overrides = {}) {
  const { setupFiles = [], ...rest } = overrides;
  return {
    test: {
      include: ["test/**/*.test.ts"],
      reporters: ["default", "json"],
      outputFile: { json: ".vitest-results.json" },
      testTimeout: 20_000,
      hookTimeout: 20_000,
      ...rest,
      setupFiles: [SETUP, ...(typeof setupFiles === "string" ? [setupFiles] : setupFiles)],
    },
  };
}
