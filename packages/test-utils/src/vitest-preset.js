// Plain JavaScript (typed by vitest-preset.d.ts): vitest.config.ts files load it before any
// TypeScript transform is in place, with the Node.js that runs vitest.
import { availableParallelism } from "node:os";
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
      // Files run in parallel (vitest's default of one worker less than the cores is a single
      // worker on a 2-core machine): no two files share state (ports are ephemeral, temp dirs,
      // HOME and tmux servers are per test), and most of a file's time is spent waiting on the
      // processes and sockets it drives. A package whose files share something says so with
      // `fileParallelism: false`.
      fileParallelism: true,
      maxWorkers: Math.max(2, availableParallelism()),
      ...rest,
      setupFiles: [SETUP, ...(typeof setupFiles === "string" ? [setupFiles] : setupFiles)],
    },
  };
}
