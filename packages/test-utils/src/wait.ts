import { existsSync, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { whenDone } from "./cleanup.js";

/**
 * Resolves once `path` exists, woken by the file system (`fs.watch` on its directory), never by
 * polling. Write the file atomically (write elsewhere, then rename) when its content matters. No
 * time limit of its own: the test's timeout is the hang guard.
 */
export function fileAppears(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dirname(path), (_event, name) => {
      if ((name === null || name === basename(path)) && existsSync(path)) done();
    });
    const done = (): void => {
      watcher.close();
      resolve();
    };
    watcher.on("error", (error) => {
      watcher.close();
      reject(error);
    });
    whenDone(() => watcher.close());
    if (existsSync(path)) done();
  });
}
