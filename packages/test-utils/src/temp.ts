import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { whenDone } from "./cleanup.js";

/**
 * A fresh directory under the temp dir (`$TMPDIR`), removed with everything in it when the test
 * finishes (`onTestFinished`); made outside a test, it is removed after the file.
 */
export function tempDir(prefix = "latchkey-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  whenDone(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
