import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";

const README = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
const MARKER = "<!-- test/readme.test.ts runs this block";
const SOURCE_INDEX = fileURLToPath(new URL("../src/index.ts", import.meta.url));

/** The `ts` blocks of the README that follow the marker, with the heading above each. */
function markedBlocks(): { heading: string; code: string }[] {
  const blocks: { heading: string; code: string }[] = [];
  let heading = "";
  const lines = README.split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    if (line.startsWith("#")) heading = line.replace(/^#+ /, "");
    if (!line.startsWith(MARKER)) continue;
    const open = lines.indexOf("```ts", index);
    const close = lines.indexOf("```", open + 1);
    blocks.push({ heading, code: lines.slice(open + 1, close).join("\n") });
  }
  return blocks;
}

/**
 * The block as a module: `@latchkey/testing` is this package's source, and a line
 * `expression; // JSON value` becomes an assertion that the expression equals the value.
 */
function runnable(code: string): string {
  const lines = code.split("\n").map((line) => {
    const match = /^(\s*)([^/].*?);\s*\/\/\s*(.+)$/.exec(line);
    if (match === null) return line;
    try {
      const expected: unknown = JSON.parse(match[3] ?? "");
      return `${match[1]}globalThis.__readmeCheck(${match[2]}, ${JSON.stringify(expected)}, ${JSON.stringify(line.trim())});`;
    } catch {
      return line;
    }
  });
  return `${lines.join("\n").replaceAll('"@latchkey/testing"', JSON.stringify(SOURCE_INDEX))}\nexport {};\n`;
}

// Issue 12 point 14: the README's examples are copy-paste correct.
describe("README code blocks", () => {
  const blocks = markedBlocks();

  it("marks the in-memory and loopback examples", () => {
    expect(blocks.map((block) => block.heading)).toEqual([
      "In memory",
      "On a loopback socket",
      "Tokens without a login: `server.issueTokens`",
    ]);
  });

  it.each(blocks)("runs the block under $heading", async ({ code }) => {
    const checks: string[] = [];
    (globalThis as { __readmeCheck?: unknown }).__readmeCheck = (
      actual: unknown,
      expected: unknown,
      line: string,
    ) => {
      expect(actual, line).toEqual(expected);
      checks.push(line);
    };
    onTestFinished(() => {
      delete (globalThis as { __readmeCheck?: unknown }).__readmeCheck;
    });
    const file = fileURLToPath(
      new URL(`./.readme-block-${process.pid}-${checks.length}-${Date.now()}.ts`, import.meta.url),
    );
    writeFileSync(file, runnable(code));
    onTestFinished(() => rmSync(file, { force: true }));
    await import(file);
    expect(checks.length).toBeGreaterThan(0);
  });
});
