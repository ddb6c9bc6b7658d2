// The README figures check (bench/readme-figures.mjs) on made-up READMEs and results: a region
// is rewritten from its row, names its baseline, a stale or unknown region and a figure outside a
// region are reported. Run: node --test bench/readme-figures.test.mjs (scripts/test-all.mjs runs it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { resultRows, rewrite, strayFigures } from "./readme-figures.mjs";

const results = `# Benchmark results

| id | measure | latchkey | latchkey spread | compared with | their value | ratio | target |
| --- | --- | --- | --- | --- | --- | --- | --- |
| token-file-wall | \`latchkey token\` stored token, file store, wall time (median) | 146.1 ms | p10–p90 143.9–150.1 ms | \`node -e 0\` | 130.4 ms | 1.12× | ≤ 1.2× |
| core-bundle-vs-openid-client | @latchkey/core browser bundle | 19.9 KB | | openid-client, whole entry | 25 KB | 0.80× | |

## Raw outputs
| not | a | row |
`;

test("RESULTS.md's rows are read by id, up to the end of the table", () => {
  const rows = resultRows(results);
  assert.deepEqual([...rows.keys()], ["token-file-wall", "core-bundle-vs-openid-client"]);
  assert.equal(rows.get("token-file-wall")?.["their value"], "130.4 ms");
});

test("an inline region gets its figure with its baseline; a stale one is rewritten", () => {
  const rows = resultRows(results);
  const readme = "Fast: <!-- bench:token-file-wall -->1.01× of something<!-- /bench -->.";
  const { text, unknown } = rewrite(readme, rows);
  assert.deepEqual(unknown, []);
  assert.equal(
    text,
    "Fast: <!-- bench:token-file-wall -->146.1 ms, 1.12× the 130.4 ms of `node -e 0`<!-- /bench -->.",
  );
  assert.notEqual(text, readme);
  assert.equal(rewrite(text, rows).text, text);
});

test("a region of several ids becomes a table of those rows", () => {
  const rows = resultRows(results);
  const { text } = rewrite(
    "<!-- bench:token-file-wall core-bundle-vs-openid-client --><!-- /bench -->",
    rows,
  );
  assert.match(
    text,
    /\| measure \| latchkey \| compared with \| their value \| ratio \| target \|/,
  );
  assert.match(text, /\| 146\.1 ms \| `node -e 0` \| 130\.4 ms \| 1\.12× \| ≤ 1\.2× \|/);
  assert.match(text, /\| 19\.9 KB \| openid-client, whole entry \| 25 KB \| 0\.80× \|/);
});

test("a region naming an id RESULTS.md lacks is reported and left alone", () => {
  const readme = "<!-- bench:no-such-row -->3 ms<!-- /bench -->";
  const { text, unknown } = rewrite(readme, resultRows(results));
  assert.deepEqual(unknown, ["no-such-row"]);
  assert.equal(text, readme);
});

test("figures outside regions are found; regions, code blocks and limits in bytes are not", () => {
  const readme = [
    "It starts in 146.1 ms, 1.12× faster, with 43.8 MiB, in 19.9 KB; 2.2x the throughput.",
    "<!-- bench:token-file-wall -->146.1 ms, 1.12× the 130.4 ms of `node -e 0`<!-- /bench -->",
    "```js",
    "route({ intervalMs: 50 }); // a space every 50 ms",
    "```",
    "A body over 1 048 576 bytes is refused; at most 64 KiB; 30–60 s.",
  ].join("\n");
  assert.deepEqual(
    strayFigures(readme).map((f) => `${f.line}:${f.figure}`),
    ["1:146.1 ms", "1:1.12×", "1:43.8 MiB", "1:19.9 KB", "1:2.2x"],
  );
});
