// bench/results.svg: the ratios of bench/RESULTS.md's table as horizontal bars on a log scale,
// each from the 1× line (as fast or as small as the peer or floor it names) to its ratio, with
// the goal's bound where the row has one. Written by bench/table.mjs on every `pnpm bench`; never
// edited by hand. Not a benchmark itself.

const xml = (text) =>
  String(text)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("`", "");

/**
 * The SVG text of a chart of `rows` ({ id, measure, other, ratio, value, bound }): one bar a row,
 * green when under its bound (or under 1× without one), red over its bound, grey otherwise.
 */
export function chart(rows, { date, machine }) {
  const drawn = rows.filter((r) => Number.isFinite(r.value) && r.value > 0);
  const left = 640;
  const plot = 400;
  const right = 170;
  const top = 58;
  const rowHeight = 34;
  const width = left + plot + right;
  const height = top + drawn.length * rowHeight + 40;
  const values = drawn.flatMap((r) => [r.value, r.bound ?? 1]);
  const lo = Math.log10(Math.min(0.5, ...values) / 1.3);
  const hi = Math.log10(Math.max(2, ...values) * 1.3);
  const x = (v) => left + ((Math.log10(v) - lo) / (hi - lo)) * plot;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-labelledby="title">`,
    `<title id="title">latchkey's benchmark ratios against their peers and floors (bench/RESULTS.md)</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="20" font-size="14" font-weight="bold">latchkey against its peers and floors: ratio (log scale, lower is better)</text>`,
    `<text x="12" y="38" fill="#555">${xml(`pnpm bench, ${date}; ${machine}. Generated from bench/RESULTS.md.`)}</text>`,
  ];
  for (const tick of [0.001, 0.01, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16]) {
    if (Math.log10(tick) < lo || Math.log10(tick) > hi) continue;
    const tx = x(tick).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 30}" stroke="${tick === 1 ? "#000" : "#ddd"}" stroke-width="${tick === 1 ? 1.5 : 1}"/>`,
      `<text x="${tx}" y="${height - 14}" text-anchor="middle" fill="#555">${tick}×</text>`,
    );
  }
  drawn.forEach((r, i) => {
    const y = top + i * rowHeight;
    const x0 = x(1);
    const x1 = x(r.value);
    const over = r.bound !== undefined && r.value > r.bound;
    const good = r.bound !== undefined ? !over : r.value <= 1;
    const colour = over ? "#c62828" : good ? "#2e7d32" : "#9e9e9e";
    out.push(
      `<text x="${left - 8}" y="${y + 12}" text-anchor="end">${xml(r.measure.replace(/ \((?:median|minified)[^)]*\)$/, ""))}</text>`,
      `<text x="${left - 8}" y="${y + 26}" text-anchor="end" fill="#555">${xml(`${r.id}: against ${r.other}`)}</text>`,
      `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${y + 4}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="20" fill="${colour}"/>`,
      `<text x="${(Math.max(x0, x1) + 6).toFixed(1)}" y="${y + 18}">${xml(r.ratio)}${r.bound === undefined ? "" : xml(` (goal ≤ ${r.bound}×)`)}</text>`,
    );
    if (r.bound !== undefined) {
      const bx = x(r.bound).toFixed(1);
      out.push(
        `<line x1="${bx}" y1="${y + 1}" x2="${bx}" y2="${y + 27}" stroke="#000" stroke-width="2" stroke-dasharray="3 2"/>`,
      );
    }
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
