/**
 * Self-contained SVG line charts (no scripts, no network): what report.html draws the gate
 * probabilities, rewards and losses with.
 */
export interface Series {
  name: string;
  points: [number, number][];
  /** Dashed line (a reference such as the baseline). */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fixed y range; default: the data's, padded. */
  yRange?: [number, number];
  /** Vertical rule with a label, e.g. the end of the warm-up epoch. */
  markers?: { x: number; label: string }[];
}

// Distinguishable on white and in grey print; cycled for more series.
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22', '#393b79', '#637939'];

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function niceTicks(min: number, max: number, count = 5): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const factor = [1, 2, 5, 10].find((f) => span / (f * step) <= count) ?? 10;
  const unit = factor * step;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / unit) * unit; v <= max + unit * 1e-9; v += unit) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function lineChart(series: Series[], options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 320;
  const pad = { left: 60, right: 175, top: 34, bottom: 44 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xMin = Math.min(...xs, ...(options.markers ?? []).map((m) => m.x));
  const xMax = Math.max(...xs);
  let [yMin, yMax] = options.yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (!options.yRange) {
    const margin = (yMax - yMin) * 0.08 || Math.abs(yMax) * 0.1 || 1;
    yMin -= margin;
    yMax += margin;
  }
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (v: number) => pad.left + ((v - xMin) / (xMax - xMin || 1)) * plotW;
  const y = (v: number) => pad.top + (1 - (v - yMin) / (yMax - yMin || 1)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escape(options.title)}">`);
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${pad.left}" y="20" font-size="14" font-weight="bold" font-family="sans-serif">${escape(options.title)}</text>`);
  for (const t of niceTicks(yMin, yMax)) {
    parts.push(`<line x1="${pad.left}" x2="${pad.left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${y(t) + 4}" font-size="11" text-anchor="end" font-family="sans-serif">${t}</text>`);
  }
  for (const t of niceTicks(xMin, xMax, 8)) {
    parts.push(`<text x="${x(t)}" y="${pad.top + plotH + 16}" font-size="11" text-anchor="middle" font-family="sans-serif">${t}</text>`);
  }
  parts.push(`<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${pad.left + plotW / 2}" y="${height - 8}" font-size="12" text-anchor="middle" font-family="sans-serif">${escape(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${pad.top + plotH / 2}) rotate(-90)" font-size="12" text-anchor="middle" font-family="sans-serif">${escape(options.yLabel)}</text>`);
  for (const marker of options.markers ?? []) {
    parts.push(`<line x1="${x(marker.x)}" x2="${x(marker.x)}" y1="${pad.top}" y2="${pad.top + plotH}" stroke="#888" stroke-dasharray="3 3"/>`);
    parts.push(`<text x="${x(marker.x) + 4}" y="${pad.top + 12}" font-size="10" fill="#666" font-family="sans-serif">${escape(marker.label)}</text>`);
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const points = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline class="series" data-series="${escape(s.name)}" fill="none" stroke="${color}" stroke-width="2"${dash} points="${points}"/>`);
    const ly = pad.top + 6 + i * 16;
    parts.push(`<line x1="${width - pad.right + 12}" x2="${width - pad.right + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"${dash}/>`);
    parts.push(`<text x="${width - pad.right + 38}" y="${ly + 4}" font-size="11" font-family="sans-serif">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
