import { onTestFinished } from "vitest";

type Cleanup = () => unknown;

/**
 * What was made outside a test (in `beforeAll` or at the top of a file): cleaned up after the
 * file. Kept on `globalThis`: the setup file and a test file may load this module twice (once
 * through the workspace link, once by its real path).
 */
const KEY = Symbol.for("@latchkey/test-utils: file-scoped cleanups");
const holder = globalThis as { [KEY]?: Cleanup[] };
holder[KEY] ??= [];
const fileScoped: Cleanup[] = holder[KEY];

/**
 * Runs `cleanup` when the current test finishes, or, when called outside a test (`beforeAll`, a
 * file's top level), after the whole file (the preset's setup file runs these in `afterAll`).
 */
export function whenDone(cleanup: Cleanup): void {
  try {
    onTestFinished(async () => {
      await cleanup();
    });
  } catch {
    fileScoped.push(cleanup);
  }
}

/** Runs and forgets every file-scoped cleanup, last registered first. */
export async function cleanUpFile(): Promise<void> {
  const errors: unknown[] = [];
  for (const cleanup of fileScoped.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, "cleaning up after the file failed");
}
