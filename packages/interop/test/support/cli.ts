// The interop suite's CLI fixtures; spawning, environments and temp dirs come from
// @latchkey/test-utils (shared with the CLI's own tests).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cliArgs, tempDir as sharedTempDir } from "@latchkey/test-utils";
import { PUBLIC_CLIENT_ID } from "./oidc.js";

export {
  BIN,
  cleanEnv,
  cliArgs,
  killAll,
  latchkey,
  type RunResult,
} from "@latchkey/test-utils";

const require = createRequire(import.meta.url);

/** The stand-in browser for oidc-provider (login + consent + device forms, cookie jar). */
export const OIDC_BROWSER_SCRIPT: string = fileURLToPath(
  new URL("../fixtures/oidc-browser.mjs", import.meta.url),
);
export const OIDC_BROWSER = `${process.execPath} ${OIDC_BROWSER_SCRIPT}`;

/** The stand-in browser of the CLI's own tests: follows the fake server's auto-approval. */
export const FOLLOW_BROWSER = `${process.execPath} ${join(
  dirname(require.resolve("@latchkey/cli/package.json")),
  "test/fixtures/follow-browser.mjs",
)}`;

/**
 * The CLI's arguments for oidc-provider's public client: offline access, and the consent prompt
 * without which oidc-provider 9 issues no refresh token to a public client; then `extra`.
 */
export function opArgs(issuer: string, storeDir: string, extra: readonly string[] = []): string[] {
  const target = { issuer, clientId: PUBLIC_CLIENT_ID, scope: "openid offline_access", storeDir };
  return cliArgs(target, ["--auth-param", "prompt=consent", ...extra]);
}

/** A temporary directory removed when the test (or, made outside one, the file) finishes. */
export function tempDir(prefix = "latchkey-interop-"): string {
  return sharedTempDir(prefix);
}

/** Every regular file under a directory with its bytes, for before/after comparisons. */
export function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) files.set(path, readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

/** The one credentials file of a file store directory. */
export function credentialsFile(dir: string): string {
  const files = readdirSync(dir).filter((f) => /^credentials-.*\.json$/.test(f));
  if (files.length !== 1) throw new Error(`expected one credentials file, found ${files.length}`);
  return join(dir, files[0] as string);
}
