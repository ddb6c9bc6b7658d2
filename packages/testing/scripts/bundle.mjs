// Bundles the `latchkey-fake-idp` bin into one file, jose included: a test suite or a script
// starts it often, and loading one module instead of the ~50 of the unbundled build (most of them
// jose's) is most of its start-up cost. The library entries (`@latchkey/testing`,
// `@latchkey/testing/vitest`) stay unbundled: users import them from their own bundlers and test
// runners, which share jose with the rest of the install.
import { rmSync } from "node:fs";
import { build } from "esbuild";

const outdir = new URL("../dist/bundle", import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { "latchkey-fake-idp": new URL("../dist/bin.js", import.meta.url).pathname },
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
});
