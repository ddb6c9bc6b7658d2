// The figures the READMEs quote come from bench/RESULTS.md, never by hand: a README marks each
// one with a region naming rows of RESULTS.md's table by id,
//
//   <!-- bench:token-file-wall -->…<!-- /bench -->          one figure, inline, with its baseline
//   <!-- bench:token-file-wall token-file-rss -->…<!-- /bench -->   a table of those rows
//
// and this script rewrites what is between the markers (bench/table.mjs runs it after the table,
// so `pnpm bench` keeps them current). `node bench/readme-figures.mjs` rewrites them;
// `--check` only reports. scripts/check-docs.mjs runs the same check: a region that differs from
// RESULTS.md, names an unknown id, or a ms/MiB/KB/× figure quoted outside a region fails it.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const resultsPath = join(root, "bench", "RESULTS.md");

/** The READMEs whose figures are checked: the root one and each package's. */
export function readmes() {
  const packages = join(root, "packages");
  return [
    join(root, "README.md"),
    ...readdirSync(packages)
      .sort()
      .map((name) => join(packages, name, "README.md"))
      .filter((file) => existsSync(file)),
  ];
}

/** The rows of RESULTS.md's main table by id (its first column). */
export function resultRows(text = readFileSync(resultsPath, "utf8")) {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => /^\|\s*id\s*\|/.test(line));
  const byId = new Map();
  if (start < 0) return byId;
  const names = cells(lines[start]);
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("|")) break;
    const values = cells(line);
    if (values.every((value) => /^:?-+:?$/.test(value))) continue;
    byId.set(values[0], Object.fromEntries(names.map((name, i) => [name, values[i] ?? ""])));
  }
  return byId;
}

function cells(line) {
  return line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((cell) => cell.trim());
}

const REGION = /<!-- bench:([a-z0-9-]+(?: [a-z0-9-]+)*) -->([\s\S]*?)<!-- \/bench -->/g;

/** What a region naming `ids` holds, from `rows`; undefined names an id RESULTS.md lacks. */
function render(ids, rows) {
  const found = ids.map((id) => rows.get(id));
  if (found.some((row) => row === undefined)) return undefined;
  if (found.length === 1) {
    const [row] = found;
    return `${row.latchkey}, ${row.ratio} the ${row["their value"]} of ${row["compared with"]}`;
  }
  const table = [
    "| measure | latchkey | compared with | their value | ratio | target |",
    "| --- | --- | --- | --- | --- | --- |",
    ...found.map(
      (r) =>
        `| ${r.measure} | ${r.latchkey} | ${r["compared with"]} | ${r["their value"]} | ${r.ratio} | ${r.target} |`,
    ),
  ];
  return `\n\n${table.join("\n")}\n\n`;
}

/** `text` with its regions rewritten from `rows`, and the ids it names that `rows` lacks. */
export function rewrite(text, rows) {
  const unknown = [];
  const out = text.replace(REGION, (whole, list) => {
    const ids = list.split(" ");
    const body = render(ids, rows);
    if (body === undefined) {
      unknown.push(...ids.filter((id) => !rows.has(id)));
      return whole;
    }
    return `<!-- bench:${list} -->${body}<!-- /bench -->`;
  });
  return { text: out, unknown };
}

/** Markdown as `biome format` leaves it (aligned tables), so that biome and this agree. */
export function formatMarkdown(path, text) {
  const biome = join(root, "node_modules", ".bin", "biome");
  const result = spawnSync(biome, ["format", `--stdin-file-path=${path}`], {
    input: text,
    encoding: "utf8",
    cwd: root,
  });
  return result.status === 0 && result.stdout ? result.stdout : text;
}

// A measured figure: a number with a unit of time, memory or size, or a ratio (`1.12×`, `2.2x`).
const FIGURE = /\d(?:[\d.,]*\d)?\s?(?:ms|MiB|KB|kB|×)(?![\p{L}\d])|\d\.\d+x\b/gu;

/** The figures of a README outside its regions (and outside code blocks and comments). */
export function strayFigures(text) {
  const found = [];
  const lines = text
    .replace(REGION, (whole) => whole.replace(/[^\n]/g, " "))
    .replace(/<!--[\s\S]*?-->/g, (whole) => whole.replace(/[^\n]/g, " "))
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (whole) => whole.replace(/[^\n]/g, " "))
    .split("\n");
  lines.forEach((line, index) => {
    for (const m of line.matchAll(FIGURE)) found.push({ line: index + 1, figure: m[0] });
  });
  return found;
}

/** Everything wrong with the READMEs' figures, as messages (empty when all is current). */
export function readmeFigureProblems() {
  if (!existsSync(resultsPath)) return ["bench/RESULTS.md is missing (pnpm bench)"];
  const rows = resultRows();
  const problems = [];
  for (const file of readmes()) {
    const name = relative(root, file);
    const before = readFileSync(file, "utf8");
    const { text, unknown } = rewrite(before, rows);
    for (const id of unknown)
      problems.push(`${name}: <!-- bench:${id} --> names no row of bench/RESULTS.md`);
    if (formatMarkdown(name, text) !== before)
      problems.push(
        `${name}: its bench figures differ from bench/RESULTS.md (node bench/readme-figures.mjs)`,
      );
    for (const { line, figure } of strayFigures(before))
      problems.push(
        `${name}:${line}: "${figure}" is quoted outside a <!-- bench:<id> --> region (figures come from bench/RESULTS.md)`,
      );
  }
  return problems;
}

/** Rewrites the READMEs' regions from RESULTS.md; the files it changed. */
export function writeReadmeFigures() {
  const rows = resultRows();
  const changed = [];
  for (const file of readmes()) {
    const name = relative(root, file);
    const before = readFileSync(file, "utf8");
    const text = formatMarkdown(name, rewrite(before, rows).text);
    if (text === before) continue;
    writeFileSync(file, text);
    changed.push(name);
  }
  return changed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) {
    const problems = readmeFigureProblems();
    for (const problem of problems) console.error(problem);
    process.exit(problems.length ? 1 : 0);
  }
  for (const file of writeReadmeFigures()) console.error(`rewrote the figures of ${file}`);
}
