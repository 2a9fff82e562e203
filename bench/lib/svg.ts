/**
 * Two small SVG charts written as strings (no packages, no network): grouped bars for the
 * method comparison and a log–log line chart for the adapter switch.
 */
const COLORS = ['#2563eb', '#f59e0b', '#6b7280', '#16a34a'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface BarGroup {
  label: string;
  values: number[];
}

/** Grouped bars: one group per label, one bar per series; values on a linear axis from 0. */
export function barChart(title: string, series: string[], groups: BarGroup[], yLabel: string): string {
  const W = 640,
    H = 320,
    left = 56,
    right = 16,
    top = 40,
    bottom = 56;
  const max = Math.max(1e-12, ...groups.flatMap((g) => g.values.filter(Number.isFinite))) * 1.1;
  const gw = (W - left - right) / groups.length;
  const bw = (gw * 0.8) / series.length;
  const y = (v: number) => top + (H - top - bottom) * (1 - v / max);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(2)}</text>`,
    );
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * gw + gw * 0.1;
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v)) return;
      const x = x0 + si * bw;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`,
        `<text x="${(x + bw / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="10">${v.toFixed(2)}</text>`,
      );
    });
    parts.push(
      `<text x="${(left + gi * gw + gw / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${esc(g.label)}</text>`,
    );
  });
  series.forEach((s, si) =>
    parts.push(
      `<rect x="${left + si * 120}" y="${H - 22}" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/>`,
      `<text x="${left + si * 120 + 14}" y="${H - 13}" font-size="11">${esc(s)}</text>`,
    ),
  );
  return svg(W, H, title, yLabel, parts);
}

export interface Line {
  name: string;
  points: [number, number][];
}

/** Lines on log2 x and log10 y axes (sizes and times span orders of magnitude). */
export function logLineChart(title: string, lines: Line[], xLabel: string, yLabel: string): string {
  const W = 640,
    H = 320,
    left = 56,
    right = 16,
    top = 40,
    bottom = 56;
  const xs = lines.flatMap((l) => l.points.map((p) => p[0]));
  const ys = lines.flatMap((l) => l.points.map((p) => p[1])).filter((v) => v > 0);
  const [x0, x1] = [Math.log2(Math.min(...xs)), Math.log2(Math.max(...xs))];
  const [y0, y1] = [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)))];
  const px = (x: number) => left + ((Math.log2(x) - x0) / Math.max(1e-9, x1 - x0)) * (W - left - right);
  const py = (v: number) => top + (1 - (Math.log10(v) - y0) / Math.max(1e-9, y1 - y0)) * (H - top - bottom);
  const parts: string[] = [];
  for (let e = y0; e <= y1; e++) {
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${py(10 ** e)}" y2="${py(10 ** e)}" stroke="#e5e7eb"/>`,
      `<text x="${left - 6}" y="${py(10 ** e) + 4}" text-anchor="end" font-size="11">${10 ** e}</text>`,
    );
  }
  for (const x of [...new Set(xs)])
    parts.push(`<text x="${px(x)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${x}</text>`);
  parts.push(
    `<text x="${(left + W - right) / 2}" y="${H - bottom + 32}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`,
  );
  lines.forEach((l, i) => {
    const d = l.points
      .filter((p) => p[1] > 0)
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`,
      `<rect x="${left + i * 160}" y="${H - 14}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${left + i * 160 + 14}" y="${H - 5}" font-size="11">${esc(l.name)}</text>`,
    );
  });
  return svg(W, H, title, yLabel, parts);
}

function svg(W: number, H: number, title: string, yLabel: string, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="14" y="${H / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${H / 2})">${esc(yLabel)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
