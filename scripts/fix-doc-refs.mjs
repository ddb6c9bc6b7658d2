#!/usr/bin/env node
// Rewrites citations of documents that are not in the repository into the repository's own docs/,
// in packages/, bench/, scripts/, .changeset/ and the root README (source comments, test titles,
// READMEs), then regenerates docs/' generated parts. Idempotent: run it again after merging a
// branch that still cites the old names; a second run changes nothing.
//   SECURITY.md, docs/SECURITY.md, BEHAVIOUR.md -> docs/threat-model.md
//   CLI.md                                      -> docs/cli.md
//   ENVIRONMENT.md, STYLE.md                    -> docs/development.md
// A package README ships alone in its npm tarball, so there the path stays text ("docs/cli.md in
// the repository"), and a relative link leaving the package becomes its plain text.
// The S-ids and "defect N" stay as they are: they resolve to headings of docs/threat-model.md.
// `node scripts/check-docs.mjs` verifies the result.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const SKIP_DIRS = new Set(["node_modules", "dist", ".turbo", "coverage", ".git"]);
const TEXT = /\.(?:[cm]?[jt]sx?|md|json|ya?ml|sh)$/;
const SELF = new Set(["scripts/check-docs.mjs", "scripts/fix-doc-refs.mjs"]);

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || /^\.vitest-results.*\.json$/.test(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (TEXT.test(name)) out.push(path);
  }
  return out;
}

const TARGET = {
  SECURITY: "docs/threat-model.md",
  BEHAVIOUR: "docs/threat-model.md",
  CLI: "docs/cli.md",
  ENVIRONMENT: "docs/development.md",
  STYLE: "docs/development.md",
};
// Not preceded by a path character, so `packages/x/CLI.md` is left for the check to report.
const CITATION = /(?<![\w./-])(?:docs\/)?(SECURITY|BEHAVIOUR|CLI|ENVIRONMENT|STYLE)\.md\b/g;

const files = [
  ...["packages", "bench", "scripts", ".changeset"].flatMap((d) => walk(join(root, d))),
  join(root, "README.md"),
];
const changed = [];
for (const file of files) {
  const name = relative(root, file).split(sep).join("/");
  if (SELF.has(name)) continue;
  const before = readFileSync(file, "utf8");
  let after = before.replace(CITATION, (_, doc) => TARGET[doc]);
  if (/^packages\/[^/]+\/README\.md$/.test(name)) {
    after = after
      .replace(/(docs\/[\w-]+\.md) of the project\b/g, "$1 in the repository")
      .replace(/\[([^\]]+)\]\(\.\.\/[^)\s]*\)/g, "$1");
  }
  if (after !== before) {
    writeFileSync(file, after);
    changed.push(name);
  }
}
for (const name of changed) console.log(`rewrote ${name}`);
console.log(`fix-doc-refs: ${changed.length} file(s) changed`);

// The tests listed per property and the other generated parts of docs/.
const check = spawnSync(process.execPath, [join(root, "scripts", "check-docs.mjs"), "--write"], {
  stdio: "inherit",
});
process.exit(check.status ?? 1);
