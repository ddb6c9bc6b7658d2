// Bundles the `latchkey` bin into one file: `latchkey token` runs on every kubectl or script
// call, and loading one file instead of a few hundred modules is most of its start-up cost.
// Packages only the demo or rare paths need stay external and are loaded lazily.
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

// The table of `latchkey token`'s options, from its commander definition (src/commands/token.ts),
// for the bin's quick parse of that command (src/quick-parse.ts): commander itself is then not
// run on the hot path.
const definitions = await import("../dist/options.js");
const token = await import("../dist/commands/token.js");
const { describeOptions } = await import("../dist/quick-parse.js");
const tokenOptions = describeOptions(
  token.options(definitions),
  (option) => option.parseArg === definitions.collect,
);

// commander requires node:child_process at load time, for executable subcommands latchkey does
// not have; loading it (and net, dgram, stream with it) costs every `latchkey token` a few ms.
// commander gets a stand-in that loads the real module the first time it is used.
const lazyChildProcessForCommander = {
  name: "lazy-child-process-for-commander",
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer)
        ? { path: "child_process", namespace: "lazy-builtin" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, () => ({
      contents:
        'let real; const load = () => (real ??= require("node:child_process")); module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });',
      loader: "js",
    }));
  },
};

// Chunk names carry content hashes: start from an empty folder so no stale chunk ships.
rmSync(new URL("../dist/bundle", import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { main: new URL("../dist/bin.js", import.meta.url).pathname },
  outdir: new URL("../dist/bundle", import.meta.url).pathname,
  entryNames: "chunks/[name]",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  external: ["@latchkey/testing", "keytar", "@napi-rs/keyring", "undici", "yocto-spinner"],
  define: {
    __LATCHKEY_VERSION__: JSON.stringify(pkg.version),
    __LATCHKEY_TOKEN_OPTIONS__: JSON.stringify(tokenOptions),
  },
  banner: {
    js: 'import { createRequire as __latchkeyRequire } from "node:module"; const require = __latchkeyRequire(import.meta.url);',
  },
  plugins: [lazyChildProcessForCommander],
  logLevel: "warning",
});

// The bin itself: on Node >= 22.1 it turns on Node's module compile cache (V8 code cache) before
// anything else is loaded, so that every run after the first skips compiling the bundle;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off, NODE_COMPILE_CACHE=DIR puts it elsewhere. It is kept
// in the user's cache folder ($XDG_CACHE_HOME or ~/.cache, then latchkey/node-compile-cache), not
// in the temp dir that every user of the machine shares. Node 20 has no enableCompileCache: the
// import is then all there is. (`pnpm bench`: bench/compile-cache.mjs.)
// Executable, as kubectl's exec plugin and other direct callers run it without `node`.
const bin = new URL("../dist/bundle/latchkey.mjs", import.meta.url);
writeFileSync(
  bin,
  `#!/usr/bin/env node
import module from "node:module";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
if (module.enableCompileCache && !process.env.NODE_COMPILE_CACHE) {
  const xdg = process.env.XDG_CACHE_HOME;
  const cache = xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".cache");
  module.enableCompileCache(join(cache, "latchkey", "node-compile-cache"));
}
await import("./chunks/main.mjs");
`,
);
chmodSync(bin, 0o755);
