// The browser cost of @latchkey/core: its whole public entry bundled for the browser with
// esbuild (minified, then gzip), beside openid-client and oauth4webapi bundled the same way.
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;

async function size(label, contents) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
    conditions: ["browser"],
    nodePaths: [`${root}packages/core/node_modules`, `${root}node_modules`],
  });
  const bytes = result.outputFiles[0].contents;
  return { label, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

const rows = [
  await size("@latchkey/core (every export)", 'export * from "./packages/core/dist/index.js";'),
  await size(
    "what a browser login + refresh app imports from @latchkey/core",
    'export { resolveServer, beginAuthorization, receiveCallback, exchangeCode, refreshCredentials, getAccessToken } from "./packages/core/dist/index.js";',
  ),
  await size("openid-client (every export)", 'export * from "openid-client";'),
  await size("oauth4webapi (every export)", 'export * from "oauth4webapi";'),
  await size("zod/mini (every export)", 'export * from "zod/mini";'),
];
console.log("browser bundle size (esbuild, minified, gzip -9)");
console.log("| bundle | minified KB | gzip KB | gzip bytes |");
console.log("|---|---|---|---|");
for (const row of rows)
  console.log(
    `| ${row.label} | ${(row.raw / 1024).toFixed(1)} | ${(row.gzip / 1024).toFixed(1)} | ${row.gzip} |`,
  );

// The budget of the whole entry (issue #4): 20 KB gzipped. Over it, this benchmark fails.
const BUDGET_BYTES = 20 * 1024;
const whole = rows[0].gzip;
console.log(
  `\n@latchkey/core whole entry: ${whole} B gzipped, budget ${BUDGET_BYTES} B (${whole <= BUDGET_BYTES ? `${BUDGET_BYTES - whole} B to spare` : `${whole - BUDGET_BYTES} B OVER`})`,
);
if (whole > BUDGET_BYTES) process.exitCode = 1;
