#!/usr/bin/env node
// The public API of every published package, read from its build (run after `turbo run build`):
// for each entry of each package.json "exports", how many runtime and type-only names it exports,
// and which exported declarations (or public members of exported classes, interfaces and object
// types) carry no TSDoc summary. Prints one table; fails when anything is undocumented.
// `--list` also prints every name (the figures the changesets and reports quote).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describePackage } from "./api-surface.mjs";

const root = new URL("..", import.meta.url).pathname;
const list = process.argv.includes("--list");
const packagesDir = join(root, "packages");
const published = readdirSync(packagesDir)
  .map((dir) => join(packagesDir, dir))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .filter((dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).private !== true)
  .sort();

const rows = [["package", "runtime names", "type names", "undocumented"]];
const missing = [];
const listing = [];
for (const dir of published) {
  const { name, entries } = await describePackage(dir);
  for (const { subpath, runtime, types, undocumented } of entries) {
    const entry = `${name}${subpath.slice(1)}`;
    rows.push([entry, String(runtime.length), String(types.length), String(undocumented.length)]);
    for (const item of undocumented) missing.push(`${entry}: ${item}`);
    listing.push(`${entry}\n  runtime: ${runtime.join(", ")}\n  types: ${types.join(", ")}`);
  }
}

const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
console.log(line(rows[0]));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows.slice(1)) console.log(line(row));
if (list) console.log(`\n${listing.join("\n")}`);
if (missing.length) {
  console.error(`\n${missing.length} exported declarations or members have no TSDoc summary:`);
  for (const item of missing) console.error(`  ${item}`);
  process.exit(1);
}
