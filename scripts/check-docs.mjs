#!/usr/bin/env node
// The repository's docs stand alone (run by scripts/test-all.mjs after the build):
// - every security-property id (`S15`) cited in packages/, bench/, scripts/, .changeset/, the
//   READMEs and docs/ is a heading of docs/threat-model.md, and every "defect N" is one of its
//   "Defect N" headings;
// - no file names a document that is not in the repository (the project's old working notes);
// - every relative Markdown link of README.md, docs/ and packages/*/README.md points to a file
//   that exists (and, with `#anchor`, to a heading of that file); a package README links nothing
//   outside its package, because it ships alone in the npm tarball (it names the repository's
//   docs/ files in text instead);
// - the generated parts of docs/ are current: the tests listed under each property (test titles
//   naming the id), the fake server's `--help` and fault catalogue, and every flag of every
//   `latchkey <command> --help` appears in docs/cli.md;
// - every ms/MiB/KB/× figure a README quotes sits in a `<!-- bench:<id> -->` region that matches
//   bench/RESULTS.md (bench/readme-figures.mjs).
// `node scripts/check-docs.mjs --write` regenerates the generated parts instead of failing on them.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { readmeFigureProblems, writeReadmeFigures } from "../bench/readme-figures.mjs";

const root = resolve(new URL("..", import.meta.url).pathname);
const write = process.argv.includes("--write");
const problems = [];
const rel = (file) => relative(root, file).split(sep).join("/");

const SKIP_DIRS = new Set(["node_modules", "dist", ".turbo", "coverage", ".git"]);
const TEXT = /\.(?:[cm]?[jt]sx?|md|json|ya?ml|sh)$/;
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

const docsDir = join(root, "docs");
const threatModelPath = join(docsDir, "threat-model.md");
const scanned = [
  ...["packages", "bench", "scripts", ".changeset", "docs"].flatMap((d) => walk(join(root, d))),
  join(root, "README.md"),
];
// These two scripts name the outside documents on purpose: they look for them.
const self = new Set(["scripts/check-docs.mjs", "scripts/fix-doc-refs.mjs"]);

// --- ids and defects --------------------------------------------------------------------------
const threatModel = existsSync(threatModelPath) ? readFileSync(threatModelPath, "utf8") : "";
if (!threatModel) problems.push("docs/threat-model.md is missing");
const propertyIds = new Set([...threatModel.matchAll(/^#{2,4} (S\d{1,2})\b/gm)].map((m) => m[1]));
const defectIds = new Set(
  [...threatModel.matchAll(/^#{2,4} Defect (\d{1,2})\b/gm)].map((m) => Number(m[1])),
);
const OUTSIDE_DOCS = /\b(?:SECURITY|CLI|ENVIRONMENT|BEHAVIOUR|STYLE)\.md\b/g;

for (const file of scanned) {
  const name = rel(file);
  if (self.has(name)) continue;
  const lines = readFileSync(file, "utf8").split("\n");
  lines.forEach((line, index) => {
    const where = `${name}:${index + 1}`;
    for (const m of line.matchAll(/\bS(\d{1,2})\b/g)) {
      if (!propertyIds.has(`S${m[1]}`))
        problems.push(`${where}: S${m[1]} is not a property of docs/threat-model.md`);
    }
    for (const m of line.matchAll(/\bdefects? (\d{1,2})\b/gi)) {
      if (!defectIds.has(Number(m[1])))
        problems.push(`${where}: "${m[0]}" is not a "Defect ${m[1]}" of docs/threat-model.md`);
    }
    for (const m of line.matchAll(OUTSIDE_DOCS)) {
      problems.push(
        `${where}: ${m[0]} is not in the repository (node scripts/fix-doc-refs.mjs rewrites it)`,
      );
    }
  });
}

// --- relative links ---------------------------------------------------------------------------
/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -N for repeats. */
function anchorsOf(markdown) {
  const anchors = new Set();
  const seen = new Map();
  for (const m of stripCode(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = m[1]
      .replace(/`/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count ? `${base}-${count}` : base);
  }
  for (const m of markdown.matchAll(/<a (?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  return anchors;
}
function stripCode(markdown) {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

const packagesDir = join(root, "packages");
const linked = [
  join(root, "README.md"),
  ...walk(docsDir).filter((f) => f.endsWith(".md")),
  ...readdirSync(packagesDir)
    .map((p) => join(packagesDir, p, "README.md"))
    .filter(existsSync),
];
for (const file of linked) {
  const text = stripCode(readFileSync(file, "utf8"));
  const packageDir = rel(file).startsWith("packages/") ? dirname(file) : undefined;
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]),
  ];
  for (const target of targets) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
    const [path = "", anchor] = target.split("#");
    const resolved = path ? resolve(dirname(file), decodeURI(path)) : file;
    if (!existsSync(resolved)) {
      problems.push(`${rel(file)}: link to ${target}: no such file`);
      continue;
    }
    if (packageDir && !`${resolved}${sep}`.startsWith(`${packageDir}${sep}`)) {
      problems.push(
        `${rel(file)}: link to ${target} leaves the package (the README ships alone in the tarball; name the repository file in text)`,
      );
    }
    if (
      anchor &&
      resolved.endsWith(".md") &&
      !anchorsOf(readFileSync(resolved, "utf8")).has(anchor)
    )
      problems.push(`${rel(file)}: link to ${target}: no heading #${anchor} there`);
  }
}

// --- generated parts --------------------------------------------------------------------------
/** Test files whose test titles name each id, with how many titles. */
function testsById() {
  const byId = new Map();
  const files = walk(packagesDir).filter((f) => /\/test\/.*\.test\.tsx?$/.test(f));
  const title = /\b(?:it|test|describe)(?:\.\w+)*\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/g;
  for (const file of files.sort()) {
    for (const m of readFileSync(file, "utf8").matchAll(title)) {
      for (const id of new Set([...m[2].matchAll(/\bS\d{1,2}\b/g)].map((x) => x[0]))) {
        const perFile = byId.get(id) ?? new Map();
        perFile.set(file, (perFile.get(file) ?? 0) + 1);
        byId.set(id, perFile);
      }
    }
  }
  return byId;
}

/** `head item, item, ...` as lines of at most 100 characters where the items allow. */
function wrap(head, items) {
  const lines = [head];
  items.forEach((item, index) => {
    const text = index < items.length - 1 ? `${item},` : item;
    const last = lines.length - 1;
    if (`${lines[last]} ${text}`.length > 100 && lines[last] !== head) lines.push(text);
    else lines[last] = `${lines[last]} ${text}`;
  });
  return lines.join("\n");
}

function replaceBlock(text, name, body) {
  const open = `<!-- generated:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf("<!-- /generated -->", start);
  if (start < 0 || end < 0) return text;
  return `${text.slice(0, start + open.length)}\n${body}\n${text.slice(end)}`;
}

function runBin(path, args) {
  if (!existsSync(path)) return undefined;
  const result = spawnSync(process.execPath, [path, ...args], { encoding: "utf8" });
  return result.status === 0 ? result.stdout : undefined;
}

const generated = new Map(); // file -> new text
function regenerate(file, update) {
  if (!existsSync(file)) return;
  const before = generated.get(file) ?? readFileSync(file, "utf8");
  generated.set(file, update(before));
}

const tests = testsById();
regenerate(threatModelPath, (text) => {
  let out = text;
  for (const id of propertyIds) {
    const perFile = tests.get(id);
    const body = perFile
      ? wrap(
          "Tests:",
          [...perFile].map(
            ([f, n]) => `[${rel(f).replace(/^packages\//, "")}](../${rel(f)}) (${n})`,
          ),
        )
      : "Tests: no test names this id yet.";
    out = replaceBlock(out, `tests:${id}`, body);
  }
  return out;
});

/** A package's bin, as its package.json declares it. */
function binOf(name, command) {
  const dir = join(packagesDir, name);
  const bin = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).bin?.[command];
  return bin === undefined ? "" : join(dir, bin);
}

const fakeBin = binOf("testing", "latchkey-fake-idp");
const fakeHelp = runBin(fakeBin, ["--help"]);
const faults = runBin(fakeBin, ["--list-faults"]);
const fakeServerDoc = join(docsDir, "fake-server.md");
if (fakeHelp === undefined || faults === undefined) {
  console.error("check-docs: packages/testing is not built; docs/fake-server.md not compared");
} else {
  regenerate(fakeServerDoc, (text) => {
    const rows = faults
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .map((f) => {
        const cell = (s) => s.replace(/\|/g, "\\|");
        return `| \`${f.name}\` | ${f.endpoint} | ${cell(f.description)} | ${f.checks.map((c) => `[${c}](threat-model.md#${c.toLowerCase()})`).join(" ")} |`;
      });
    const table = [
      "| fault | endpoint | what the client gets | proves |",
      "| --- | --- | --- | --- |",
      ...rows,
    ];
    return replaceBlock(
      replaceBlock(text, "fake-idp-help", `\`\`\`text\n${fakeHelp.trimEnd()}\n\`\`\``),
      "fault-catalogue",
      table.join("\n"),
    );
  });
}

/** Markdown as `biome format` leaves it (aligned tables), so that biome and this agree. */
function formatted(file, text) {
  const biome = join(root, "node_modules", ".bin", "biome");
  const result = spawnSync(biome, ["format", `--stdin-file-path=${rel(file)}`], {
    input: text,
    encoding: "utf8",
  });
  return result.status === 0 && result.stdout ? result.stdout : text;
}

for (const [file, unformatted] of generated) {
  const text = formatted(file, unformatted);
  if (text === readFileSync(file, "utf8")) continue;
  if (write) writeFileSync(file, text);
  else
    problems.push(`${rel(file)}: generated parts are stale (node scripts/check-docs.mjs --write)`);
}

// Every flag the CLI's help shows is documented.
const cliBin = binOf("cli", "latchkey");
const cliDocPath = join(docsDir, "cli.md");
const cliDoc = existsSync(cliDocPath) ? readFileSync(cliDocPath, "utf8") : "";
if (!cliDoc) problems.push("docs/cli.md is missing");
const commands = ["login", "token", "refresh", "logout", "status", "demo", "kubeconfig"];
for (const command of commands) {
  const help = runBin(cliBin, [command, "--help"]);
  if (help === undefined) {
    console.error(`check-docs: packages/cli is not built; flags of ${command} not compared`);
    break;
  }
  for (const flag of new Set(help.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])) {
    if (!cliDoc.includes(`\`${flag}`))
      problems.push(`docs/cli.md: \`${command} ${flag}\` is not documented`);
  }
}

// Every figure a README quotes is a region generated from bench/RESULTS.md, and is current.
if (write) writeReadmeFigures();
problems.push(...readmeFigureProblems());

for (const problem of problems) console.error(problem);
console.error(
  problems.length
    ? `check-docs: ${problems.length} problem(s)`
    : `check-docs: ${propertyIds.size} properties, ${defectIds.size} defects, ${scanned.length} files, ${linked.length} READMEs and docs: all resolve`,
);
process.exit(problems.length ? 1 : 0);
