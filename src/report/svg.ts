// Small dependency-free SVG plots for run reports: line plots, scatter plots with error bars and
// per-point labels (accuracy-vs-cost Pareto plots), categorical strips (per-layer formats, like the
// paper's Fig. 7) and numeric heatmaps (policy probabilities). Every function returns an SVG string;
// browser-safe (no DOM, no Node).

import { FliqsError, describe } from '../core/errors.js';

/** Options shared by every plot. */
export interface PlotOptions {
  /** Width and height of the SVG in px (defaults 640 × 400). */
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Colours cycled over series or categories (default: Okabe–Ito, readable by colour-blind people). */
  palette?: readonly string[];
}

/** One line of a line plot. */
export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface LinePlotOptions extends PlotOptions {
  logX?: boolean;
  logY?: boolean;
  /** Draw a circle at every point (default true when a series has ≤ 40 points). */
  markers?: boolean;
}

/** One point of a scatter plot. */
export interface ScatterPoint {
  x: number;
  y: number;
  /** Half-widths of the error bars (symmetric), drawn when given. */
  xErr?: number;
  yErr?: number;
  /** Text drawn beside the point. */
  label?: string;
  /** Series name: points of one series share a colour and a legend entry. */
  series?: string;
}

export interface ScatterPlotOptions extends PlotOptions {
  logX?: boolean;
  logY?: boolean;
  /** Join the points of each series in x order (e.g. a Pareto front). */
  connect?: boolean;
  /** Extra lines drawn under the points (e.g. a fitted curve), in the legend after the point series. */
  lines?: readonly Series[];
}

/** One row of a categorical strip: a label and one category name per column. */
export interface StripRow {
  label: string;
  cells: readonly string[];
}

export interface StripOptions extends PlotOptions {
  /** Column labels (e.g. layer names). */
  columns?: readonly string[];
  /** Category order for colours and the legend (default: order of first appearance). */
  categories?: readonly string[];
  /** Fixed colours per category, overriding the palette. */
  colors?: Readonly<Record<string, string>>;
}

export interface HeatmapOptions extends PlotOptions {
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  /** Colour-scale limits (default: the data's min and max). */
  min?: number;
  max?: number;
  /** Print each cell's value inside it (default true when there are ≤ 400 cells). */
  showValues?: boolean;
  /** Digits for printed values (default 2). */
  digits?: number;
}

/** Okabe–Ito colour-blind-safe palette, then a few extra distinct colours. */
export const DEFAULT_PALETTE: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9',
  '#F0E442', '#000000', '#8C564B', '#7F7F7F', '#17BECF', '#BCBD22'];

const FONT = 'font-family="sans-serif"';

/**
 * Escapes text for XML content and attribute values.
 * @example
 * escapeXml('a<b & "c"') // 'a&lt;b &amp; &quot;c&quot;'
 */
export function escapeXml(s: string): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A number for an SVG attribute: 2 decimals, no trailing zeros. */
function n2(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Short tick label: 3 significant digits, exponent form for very large/small magnitudes. */
function tickText(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

function size(opts: PlotOptions): [number, number] {
  const w = opts.width ?? 640, h = opts.height ?? 400;
  for (const [name, v] of [['width', w], ['height', h]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 80 || v > 20000) {
      throw new FliqsError(name, `got ${describe(v)}`, 'a number of px from 80 to 20000');
    }
  }
  return [w, h];
}

function open(w: number, h: number, title: string | undefined): string[] {
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${n2(w)}" height="${n2(h)}" viewBox="0 0 ${n2(w)} ${n2(h)}">`,
    `<rect x="0" y="0" width="${n2(w)}" height="${n2(h)}" fill="#ffffff"/>`];
  if (title) out.push(`<text x="${n2(w / 2)}" y="20" text-anchor="middle" ${FONT} font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  return out;
}

/** An axis mapping data → px, linear or log10, with "nice" ticks. */
interface Axis {
  map(v: number): number;
  ticks: number[];
}

function niceTicks(lo: number, hi: number, target = 6): number[] {
  const span = hi - lo;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= target) ?? 10 * mag;
  if (!(step > 0) || !Number.isFinite(step)) return [lo, hi];
  const first = Math.ceil(lo / step - 1e-9);
  const out: number[] = [];
  for (let i = 0; i <= 2 * target + 2; i++) {
    const t = (first + i) * step;
    if (t > hi + step * 1e-9) break;
    out.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return out;
}

function makeAxis(values: number[], log: boolean, p0: number, p1: number, input: string): Axis {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (log) {
    if (lo <= 0) throw new FliqsError(input, `has a value ${lo} ≤ 0 on a log axis`, 'positive values only, or a linear axis');
    lo = Math.log10(lo); hi = Math.log10(hi);
  }
  if (hi - lo <= 1e-9 * Math.max(Math.abs(lo), Math.abs(hi), 1e-300)) { const d = Math.abs(lo) > 1e-200 ? Math.abs(lo) * 0.1 : 1; lo -= d; hi += d; } else {
    const pad = (hi - lo) * 0.05; lo -= pad; hi += pad;
  }
  const map = (v: number): number => p0 + (((log ? Math.log10(v) : v) - lo) / (hi - lo)) * (p1 - p0);
  let ticks: number[];
  if (log) {
    const k0 = Math.ceil(lo - 1e-9), k1 = Math.floor(hi + 1e-9), every = Math.max(1, Math.ceil((k1 - k0 + 1) / 8));
    ticks = [];
    for (let k = k0; k <= k1; k += every) ticks.push(10 ** k);
    if (ticks.length < 2) ticks = niceTicks(10 ** lo, 10 ** hi, 4).filter((t) => t > 0);
  } else {
    ticks = niceTicks(lo, hi);
  }
  return { map, ticks };
}

function checkFinite(input: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FliqsError(input, `is ${describe(v)}`, 'a finite number');
  return v;
}

/** Plot frame: box, ticks, grid, axis labels. Returns the plot-area box too. */
interface Frame { left: number; right: number; top: number; bottom: number }

function frame(w: number, h: number, opts: PlotOptions, legendNames: readonly string[]): Frame {
  const top = opts.title ? 34 : 14;
  const longest = Math.max(0, ...legendNames.map((s) => s.length));
  const legendW = legendNames.length > 0 ? Math.min(w * 0.4, 44 + 7.4 * longest) : 20;
  return { left: 64, right: w - legendW, top, bottom: h - 48 };
}

function axes(out: string[], f: Frame, xa: Axis, ya: Axis, opts: PlotOptions): void {
  const g: string[] = ['<g class="axes">'];
  g.push(`<rect x="${n2(f.left)}" y="${n2(f.top)}" width="${n2(f.right - f.left)}" height="${n2(f.bottom - f.top)}" fill="none" stroke="#333"/>`);
  for (const t of xa.ticks) {
    const x = xa.map(t);
    if (x < f.left - 0.5 || x > f.right + 0.5) continue;
    g.push(`<line x1="${n2(x)}" y1="${n2(f.top)}" x2="${n2(x)}" y2="${n2(f.bottom)}" stroke="#e5e5e5"/>`,
      `<line x1="${n2(x)}" y1="${n2(f.bottom)}" x2="${n2(x)}" y2="${n2(f.bottom + 5)}" stroke="#333"/>`,
      `<text class="tick" x="${n2(x)}" y="${n2(f.bottom + 18)}" text-anchor="middle" ${FONT} font-size="11">${escapeXml(tickText(t))}</text>`);
  }
  for (const t of ya.ticks) {
    const y = ya.map(t);
    if (y < f.top - 0.5 || y > f.bottom + 0.5) continue;
    g.push(`<line x1="${n2(f.left)}" y1="${n2(y)}" x2="${n2(f.right)}" y2="${n2(y)}" stroke="#e5e5e5"/>`,
      `<line x1="${n2(f.left - 5)}" y1="${n2(y)}" x2="${n2(f.left)}" y2="${n2(y)}" stroke="#333"/>`,
      `<text class="tick" x="${n2(f.left - 8)}" y="${n2(y + 4)}" text-anchor="end" ${FONT} font-size="11">${escapeXml(tickText(t))}</text>`);
  }
  if (opts.xLabel) {
    g.push(`<text x="${n2((f.left + f.right) / 2)}" y="${n2(f.bottom + 38)}" text-anchor="middle" ${FONT} font-size="12">${escapeXml(opts.xLabel)}</text>`);
  }
  if (opts.yLabel) {
    const cy = (f.top + f.bottom) / 2;
    g.push(`<text x="16" y="${n2(cy)}" text-anchor="middle" transform="rotate(-90 16 ${n2(cy)})" ${FONT} font-size="12">${escapeXml(opts.yLabel)}</text>`);
  }
  g.push('</g>');
  out.push(...g);
}

function legend(out: string[], x: number, y: number, entries: { name: string; color: string }[]): void {
  if (entries.length === 0) return;
  out.push('<g class="legend">');
  entries.forEach((e, i) => {
    const yy = y + i * 18;
    out.push(`<rect x="${n2(x)}" y="${n2(yy)}" width="12" height="12" fill="${escapeXml(e.color)}"/>`,
      `<text x="${n2(x + 18)}" y="${n2(yy + 10)}" ${FONT} font-size="12">${escapeXml(e.name)}</text>`);
  });
  out.push('</g>');
}

/**
 * A line plot of one or more series, with a legend, optional log axes, ticks and labels.
 * Throws a FliqsError for no series, empty or mismatched series, or non-finite values.
 * @example
 * const svg = linePlot([{ name: 'INT4', x: [1, 2, 3], y: [0.5, 0.3, 0.2] }], { title: 'loss', xLabel: 'step' });
 * svg.startsWith('<svg') // true
 */
export function linePlot(series: readonly Series[], opts: LinePlotOptions = {}): string {
  const [w, h] = size(opts);
  if (!Array.isArray(series) || series.length === 0) throw new FliqsError('series', `got ${describe(series)}`, 'a non-empty array of { name, x, y }');
  const xs: number[] = [], ys: number[] = [];
  series.forEach((s, i) => {
    const len = s?.x?.length;
    if (!len || s.y?.length !== len) {
      throw new FliqsError(`series[${i}]`, `has ${describe(s?.x)} x and ${describe(s?.y)} y`, 'x and y of the same non-zero length');
    }
    for (let j = 0; j < len; j++) {
      xs.push(checkFinite(`series[${i}].x[${j}]`, s.x[j]!));
      ys.push(checkFinite(`series[${i}].y[${j}]`, s.y[j]!));
    }
  });
  const palette = opts.palette ?? DEFAULT_PALETTE;
  const f = frame(w, h, opts, series.map((s) => s.name));
  const xa = makeAxis(xs, opts.logX ?? false, f.left, f.right, 'x');
  const ya = makeAxis(ys, opts.logY ?? false, f.bottom, f.top, 'y');
  const out = open(w, h, opts.title);
  axes(out, f, xa, ya, opts);
  series.forEach((s, i) => {
    const color = palette[i % palette.length]!;
    const pts = Array.from({ length: s.x.length }, (_, j) => `${n2(xa.map(s.x[j]!))},${n2(ya.map(s.y[j]!))}`);
    out.push(`<path class="series" d="M${pts.join(' L')}" fill="none" stroke="${escapeXml(color)}" stroke-width="2"/>`);
    if (opts.markers ?? s.x.length <= 40) {
      for (const p of pts) {
        const [px, py] = p.split(',');
        out.push(`<circle class="point" cx="${px}" cy="${py}" r="3" fill="${escapeXml(color)}"/>`);
      }
    }
  });
  legend(out, f.right + 14, f.top + 4, series.map((s, i) => ({ name: s.name, color: palette[i % palette.length]! })));
  out.push('</svg>');
  return out.join('\n');
}

/**
 * A scatter plot with optional error bars, per-point labels and series colours (e.g. accuracy vs MBOPs).
 * @example
 * scatterPlot([{ x: 12, y: 0.91, yErr: 0.01, label: 'INT4', series: 'FLIQS-S' }], { xLabel: 'MBOPs', yLabel: 'accuracy' });
 */
export function scatterPlot(points: readonly ScatterPoint[], opts: ScatterPlotOptions = {}): string {
  const [w, h] = size(opts);
  if (!Array.isArray(points) || points.length === 0) throw new FliqsError('points', `got ${describe(points)}`, 'a non-empty array of { x, y }');
  const xs: number[] = [], ys: number[] = [];
  points.forEach((p, i) => {
    const x = checkFinite(`points[${i}].x`, p?.x), y = checkFinite(`points[${i}].y`, p?.y);
    const xe = p.xErr === undefined ? 0 : Math.abs(checkFinite(`points[${i}].xErr`, p.xErr));
    const ye = p.yErr === undefined ? 0 : Math.abs(checkFinite(`points[${i}].yErr`, p.yErr));
    xs.push(x, opts.logX && x - xe <= 0 ? x : x - xe, x + xe);
    ys.push(y, opts.logY && y - ye <= 0 ? y : y - ye, y + ye);
  });
  const lines = opts.lines ?? [];
  lines.forEach((s, i) => {
    if (!s?.x?.length || s.y?.length !== s.x.length) {
      throw new FliqsError(`lines[${i}]`, `has ${describe(s?.x)} x and ${describe(s?.y)} y`, 'x and y of the same non-zero length');
    }
    for (let j = 0; j < s.x.length; j++) {
      xs.push(checkFinite(`lines[${i}].x[${j}]`, s.x[j]!));
      ys.push(checkFinite(`lines[${i}].y[${j}]`, s.y[j]!));
    }
  });
  const names = [...new Set(points.map((p) => p.series ?? ''))];
  const named = names.filter((s) => s !== '');
  const palette = opts.palette ?? DEFAULT_PALETTE;
  const colorOf = (s: string | undefined): string => palette[names.indexOf(s ?? '') % palette.length]!;
  const lineColor = (i: number): string => palette[(names.length + i) % palette.length]!;
  const f = frame(w, h, opts, [...named, ...lines.map((s) => s.name)]);
  const xa = makeAxis(xs, opts.logX ?? false, f.left, f.right, 'x');
  const ya = makeAxis(ys, opts.logY ?? false, f.bottom, f.top, 'y');
  const out = open(w, h, opts.title);
  axes(out, f, xa, ya, opts);
  if (opts.connect) {
    for (const s of names) {
      const pts = points.filter((p) => (p.series ?? '') === s).sort((a, b) => a.x - b.x);
      if (pts.length < 2) continue;
      out.push(`<path class="series" d="M${pts.map((p) => `${n2(xa.map(p.x))},${n2(ya.map(p.y))}`).join(' L')}" fill="none" stroke="${escapeXml(colorOf(s))}" stroke-width="1.5"/>`);
    }
  }
  lines.forEach((s, i) => {
    const d = Array.from({ length: s.x.length }, (_, j) => `${n2(xa.map(s.x[j]!))},${n2(ya.map(s.y[j]!))}`).join(' L');
    out.push(`<path class="series" d="M${d}" fill="none" stroke="${escapeXml(lineColor(i))}" stroke-width="1.5" stroke-dasharray="5 3"/>`);
  });
  for (const p of points) {
    const c = escapeXml(colorOf(p.series)), px = xa.map(p.x), py = ya.map(p.y);
    if (p.yErr !== undefined) {
      const e = Math.abs(p.yErr), lo = opts.logY ? Math.max(p.y - e, p.y * 1e-3) : p.y - e;
      out.push(`<line class="errorbar" x1="${n2(px)}" y1="${n2(ya.map(lo))}" x2="${n2(px)}" y2="${n2(ya.map(p.y + e))}" stroke="${c}"/>`);
    }
    if (p.xErr !== undefined) {
      const e = Math.abs(p.xErr), lo = opts.logX ? Math.max(p.x - e, p.x * 1e-3) : p.x - e;
      out.push(`<line class="errorbar" x1="${n2(xa.map(lo))}" y1="${n2(py)}" x2="${n2(xa.map(p.x + e))}" y2="${n2(py)}" stroke="${c}"/>`);
    }
    out.push(`<circle class="point" cx="${n2(px)}" cy="${n2(py)}" r="4" fill="${c}"/>`);
    if (p.label) out.push(`<text class="label" x="${n2(px + 6)}" y="${n2(py - 6)}" ${FONT} font-size="10">${escapeXml(p.label)}</text>`);
  }
  legend(out, f.right + 14, f.top + 4, [...named.map((s) => ({ name: s, color: colorOf(s) })),
    ...lines.map((s, i) => ({ name: s.name, color: lineColor(i) }))]);
  out.push('</svg>');
  return out.join('\n');
}

/**
 * Rows × columns of categorical cells, one colour per category, with a legend: e.g. one row per
 * model, one column per layer, the cell the layer's chosen format (the paper's Fig. 7).
 * @example
 * categoryStrip([{ label: 'ResNet', cells: ['INT8', 'INT4', 'INT4', 'INT8'] }], { columns: ['c1', 'c2', 'c3', 'fc'] });
 */
export function categoryStrip(rows: readonly StripRow[], opts: StripOptions = {}): string {
  if (!Array.isArray(rows) || rows.length === 0) throw new FliqsError('rows', `got ${describe(rows)}`, 'a non-empty array of { label, cells }');
  const cols = rows[0]!.cells?.length ?? 0;
  rows.forEach((r, i) => {
    if (!r || !Array.isArray(r.cells) || r.cells.length === 0 || r.cells.length !== cols) {
      throw new FliqsError(`rows[${i}].cells`, `has ${describe(r?.cells)} (row 0 has ${cols})`, 'non-empty rows, all of one length');
    }
    r.cells.forEach((c: unknown, j: number) => { if (typeof c !== 'string') throw new FliqsError(`rows[${i}].cells[${j}]`, `got ${describe(c)}`, 'a category name'); });
  });
  if (opts.columns && opts.columns.length !== cols) {
    throw new FliqsError('columns', `has ${opts.columns.length} labels for ${cols} columns`, 'one label per column');
  }
  const cats = [...(opts.categories ?? [])];
  for (const r of rows) for (const c of r.cells) if (!cats.includes(c)) cats.push(c);
  const palette = opts.palette ?? DEFAULT_PALETTE;
  const colorOf = (c: string): string => opts.colors?.[c] ?? palette[cats.indexOf(c) % palette.length]!;
  const [w0, h0] = [opts.width ?? 640, opts.height ?? Math.max(120, (opts.title ? 34 : 14) + rows.length * 28 + (opts.columns ? 60 : 24))];
  const [w, h] = size({ ...opts, width: w0, height: h0 });
  const labelW = Math.min(160, 10 + 7 * Math.max(...rows.map((r) => r.label.length)));
  const left = labelW, right = w - 110, top = opts.title ? 34 : 14, bottom = h - (opts.columns ? 60 : 24);
  const cw = (right - left) / cols, ch = (bottom - top) / rows.length;
  const out = open(w, h, opts.title);
  rows.forEach((r, i) => {
    const y = top + i * ch;
    out.push(`<text x="${n2(left - 6)}" y="${n2(y + ch / 2 + 4)}" text-anchor="end" ${FONT} font-size="12">${escapeXml(r.label)}</text>`);
    r.cells.forEach((c: string, j: number) => {
      out.push(`<rect class="cell" x="${n2(left + j * cw)}" y="${n2(y)}" width="${n2(cw)}" height="${n2(ch)}" fill="${escapeXml(colorOf(c))}" stroke="#ffffff"><title>${escapeXml(`${r.label} ${opts.columns?.[j] ?? j}: ${c}`)}</title></rect>`);
    });
  });
  if (opts.columns) {
    opts.columns.forEach((c, j) => {
      const x = left + (j + 0.5) * cw, y = bottom + 8;
      out.push(`<text x="${n2(x)}" y="${n2(y)}" text-anchor="end" transform="rotate(-45 ${n2(x)} ${n2(y)})" ${FONT} font-size="10">${escapeXml(c)}</text>`);
    });
  }
  legend(out, right + 14, top + 4, cats.map((c) => ({ name: c, color: colorOf(c) })));
  out.push('</svg>');
  return out.join('\n');
}

/** Sequential colour from white-ish (t = 0) to dark blue (t = 1). */
function ramp(t: number): string {
  const a = [247, 251, 255], b = [8, 48, 107];
  const c = a.map((v, i) => Math.round(v + (b[i]! - v) * Math.min(1, Math.max(0, t))));
  return `rgb(${c.join(',')})`;
}

/**
 * A numeric heatmap (rows × columns), e.g. per-layer policy probabilities or a switching-error matrix.
 * @example
 * heatmap([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], { rowLabels: ['conv1', 'fc'], colLabels: ['INT4', 'INT8', 'BF16'] });
 */
export function heatmap(values: readonly (readonly number[])[], opts: HeatmapOptions = {}): string {
  if (!Array.isArray(values) || values.length === 0) throw new FliqsError('values', `got ${describe(values)}`, 'a non-empty array of rows');
  const cols = values[0]?.length ?? 0;
  let lo = Infinity, hi = -Infinity;
  values.forEach((r, i) => {
    if (!Array.isArray(r) || r.length === 0 || r.length !== cols) {
      throw new FliqsError(`values[${i}]`, `got ${describe(r)} (row 0 has ${cols})`, 'non-empty rows, all of one length');
    }
    r.forEach((v, j) => { checkFinite(`values[${i}][${j}]`, v); lo = Math.min(lo, v); hi = Math.max(hi, v); });
  });
  for (const [name, labels, len] of [['rowLabels', opts.rowLabels, values.length], ['colLabels', opts.colLabels, cols]] as const) {
    if (labels && labels.length !== len) throw new FliqsError(name, `has ${labels.length} labels for ${len}`, 'one label per row/column');
  }
  const min = opts.min ?? lo, max = opts.max ?? hi;
  const showValues = opts.showValues ?? values.length * cols <= 400;
  const digits = opts.digits ?? 2;
  const rowLabels = opts.rowLabels ?? values.map((_, i) => String(i));
  const colLabels = opts.colLabels ?? Array.from({ length: cols }, (_, j) => String(j));
  const [w0, h0] = [opts.width ?? 640, opts.height ?? Math.max(140, (opts.title ? 34 : 14) + values.length * 28 + 64)];
  const [w, h] = size({ ...opts, width: w0, height: h0 });
  const labelW = Math.min(160, 10 + 7 * Math.max(...rowLabels.map((s) => s.length)));
  const left = labelW, right = w - 80, top = opts.title ? 34 : 14, bottom = h - 60;
  const cw = (right - left) / cols, ch = (bottom - top) / values.length;
  const t = (v: number): number => (max > min ? (v - min) / (max - min) : 0.5);
  const out = open(w, h, opts.title);
  values.forEach((r, i) => {
    const y = top + i * ch;
    out.push(`<text x="${n2(left - 6)}" y="${n2(y + ch / 2 + 4)}" text-anchor="end" ${FONT} font-size="12">${escapeXml(rowLabels[i]!)}</text>`);
    r.forEach((v: number, j: number) => {
      const x = left + j * cw;
      out.push(`<rect class="cell" x="${n2(x)}" y="${n2(y)}" width="${n2(cw)}" height="${n2(ch)}" fill="${ramp(t(v))}" stroke="#ffffff"><title>${escapeXml(`${rowLabels[i]} × ${colLabels[j]}: ${v}`)}</title></rect>`);
      if (showValues) {
        out.push(`<text x="${n2(x + cw / 2)}" y="${n2(y + ch / 2 + 4)}" text-anchor="middle" ${FONT} font-size="10" fill="${t(v) > 0.55 ? '#ffffff' : '#000000'}">${escapeXml(tickText(Number(v.toFixed(digits))))}</text>`);
      }
    });
  });
  colLabels.forEach((c, j) => {
    const x = left + (j + 0.5) * cw, y = bottom + 8;
    out.push(`<text x="${n2(x)}" y="${n2(y)}" text-anchor="end" transform="rotate(-45 ${n2(x)} ${n2(y)})" ${FONT} font-size="10">${escapeXml(c)}</text>`);
  });
  if (opts.xLabel) out.push(`<text x="${n2((left + right) / 2)}" y="${n2(h - 6)}" text-anchor="middle" ${FONT} font-size="12">${escapeXml(opts.xLabel)}</text>`);
  // colour bar
  const bx = right + 20, steps = 10;
  out.push('<g class="colorbar">');
  for (let s = 0; s < steps; s++) {
    const y = top + ((bottom - top) * s) / steps;
    out.push(`<rect x="${n2(bx)}" y="${n2(y)}" width="14" height="${n2((bottom - top) / steps + 0.5)}" fill="${ramp(1 - (s + 0.5) / steps)}"/>`);
  }
  out.push(`<text x="${n2(bx + 18)}" y="${n2(top + 10)}" ${FONT} font-size="10">${escapeXml(tickText(max))}</text>`,
    `<text x="${n2(bx + 18)}" y="${n2(bottom)}" ${FONT} font-size="10">${escapeXml(tickText(min))}</text>`, '</g>');
  out.push('</svg>');
  return out.join('\n');
}
