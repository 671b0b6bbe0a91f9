// Small dependency-free SVG plots for run reports: line plots (one frame, or stacked panels each with its own
// y axis), scatter plots with error bars, marker shapes and per-point labels (accuracy-vs-cost Pareto plots),
// categorical strips (per-layer formats, like the paper's Fig. 7) and numeric heatmaps (policy probabilities,
// with a labelled colour bar). Every text is kept inside the canvas: its width is estimated as
// 0.6 × font size × characters (TEXT_WIDTH), and a text too long for its room is shrunk or cut with "…".
// Every function returns an SVG string; browser-safe (no DOM, no Node).

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
  /** Colour (default: the palette's next one) and dash pattern (e.g. '5 3'; default solid) — scatterPlot's lines only. */
  color?: string;
  dash?: string;
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
  /** Marker shape (default circle) and colour (default: the series'). */
  marker?: MarkerShape;
  color?: string;
}

/** The marker shapes of scatterPlot. */
export const MARKER_SHAPES = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'cross', 'plus', 'star',
  'circle-open', 'square-open', 'triangle-open', 'diamond-open'] as const;
export type MarkerShape = (typeof MARKER_SHAPES)[number];

/** One legend entry: a colour swatch, a marker, or a line (dashed when `dash` is given). */
export interface LegendEntry {
  name: string;
  color: string;
  marker?: MarkerShape;
  line?: boolean;
  dash?: string;
}

export interface ScatterPlotOptions extends PlotOptions {
  logX?: boolean;
  logY?: boolean;
  /** Join the points of each series in x order (e.g. a Pareto front). */
  connect?: boolean;
  /** Extra lines drawn under the points (e.g. a fitted curve), in the legend after the point series. */
  lines?: readonly Series[];
  /** The legend's entries, replacing the automatic one (one entry per series, then per line). */
  legend?: readonly LegendEntry[];
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
  /** What the colours mean, written beside the colour bar (e.g. 'probability'). */
  colorLabel?: string;
}

/** One panel of stackedLinePlot: its series and its own y axis. */
export interface Panel {
  series: readonly Series[];
  yLabel: string;
  logY?: boolean;
}

/** Okabe–Ito colour-blind-safe palette, then a few extra distinct colours. */
export const DEFAULT_PALETTE: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9',
  '#F0E442', '#000000', '#8C564B', '#7F7F7F', '#17BECF', '#BCBD22'];

const FONT = 'font-family="sans-serif"';

/** Estimated width of one character, as a fraction of the font size (sans-serif; generous for digits and lower case). */
export const TEXT_WIDTH = 0.6;

/** Estimated width in px of `text` at `fontSize`. @example textWidth('loss', 10) // 24 */
export function textWidth(text: string, fontSize: number): number {
  return TEXT_WIDTH * fontSize * [...String(text)].length;
}

/**
 * `text` cut to fit `room` px at `fontSize` (with "…" when cut).
 * @example
 * fitText('a long layer name', 40, 10) // 'a lo…'  (6 px per character)
 */
export function fitText(text: string, room: number, fontSize: number): string {
  const chars = [...String(text)];
  const max = Math.floor(room / (TEXT_WIDTH * fontSize));
  if (chars.length <= max) return chars.join('');
  return max <= 1 ? (max === 1 ? '…' : '') : `${chars.slice(0, max - 1).join('')}…`;
}

/** A font size ≤ `size` (down to `min`) at which `text` fits `room` px; the text cut to fit at `min` otherwise. */
function fitFont(text: string, room: number, size: number, min: number): { text: string; size: number } {
  const need = textWidth(text, size);
  if (need <= room) return { text, size };
  const smaller = Math.max(min, Math.floor((size * room) / need * 10) / 10);
  return { text: fitText(text, room, smaller), size: smaller };
}

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
  if (title) {
    const t = fitFont(title, w - 16, 15, 10);
    if (t.text !== title) out.push(`<title>${escapeXml(title)}</title>`);
    out.push(`<text x="${n2(w / 2)}" y="20" text-anchor="middle" ${FONT} font-size="${t.size}" font-weight="bold">${escapeXml(t.text)}</text>`);
  }
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
    if (ticks.length < 4) { // under about three decades: 1, 2, 5 (or 1…9) in each decade, for at least 4 ticks
      for (const ms of [[1, 2, 5], [1, 2, 3, 5, 7], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
        const t: number[] = [];
        for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) {
          for (const m of ms) { const v = Number((m * 10 ** k).toPrecision(6)); if (Math.log10(v) >= lo - 1e-9 && Math.log10(v) <= hi + 1e-9) t.push(v); }
        }
        ticks = t;
        if (t.length >= 4) break;
      }
      if (ticks.length < 2) ticks = niceTicks(10 ** lo, 10 ** hi, 4).filter((t) => t > 0);
    }
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

function axes(out: string[], f: Frame, xa: Axis, ya: Axis, opts: PlotOptions, w: number, noXTickLabels = false): void {
  const g: string[] = ['<g class="axes">'];
  g.push(`<rect x="${n2(f.left)}" y="${n2(f.top)}" width="${n2(f.right - f.left)}" height="${n2(f.bottom - f.top)}" fill="none" stroke="#333"/>`);
  for (const t of xa.ticks) {
    const x = xa.map(t);
    if (x < f.left - 0.5 || x > f.right + 0.5) continue;
    g.push(`<line x1="${n2(x)}" y1="${n2(f.top)}" x2="${n2(x)}" y2="${n2(f.bottom)}" stroke="#e5e5e5"/>`,
      `<line x1="${n2(x)}" y1="${n2(f.bottom)}" x2="${n2(x)}" y2="${n2(f.bottom + 5)}" stroke="#333"/>`);
    if (!noXTickLabels) g.push(`<text class="tick" x="${n2(x)}" y="${n2(f.bottom + 18)}" text-anchor="middle" ${FONT} font-size="11">${escapeXml(tickText(t))}</text>`);
  }
  for (const t of ya.ticks) {
    const y = ya.map(t);
    if (y < f.top - 0.5 || y > f.bottom + 0.5) continue;
    g.push(`<line x1="${n2(f.left)}" y1="${n2(y)}" x2="${n2(f.right)}" y2="${n2(y)}" stroke="#e5e5e5"/>`,
      `<line x1="${n2(f.left - 5)}" y1="${n2(y)}" x2="${n2(f.left)}" y2="${n2(y)}" stroke="#333"/>`,
      `<text class="tick" x="${n2(f.left - 8)}" y="${n2(y + 4)}" text-anchor="end" ${FONT} font-size="11">${escapeXml(tickText(t))}</text>`);
  }
  if (opts.xLabel) {
    const t = fitFont(opts.xLabel, 2 * Math.min((f.left + f.right) / 2, w - (f.left + f.right) / 2) - 8, 12, 9);
    g.push(`<text x="${n2((f.left + f.right) / 2)}" y="${n2(f.bottom + 38)}" text-anchor="middle" ${FONT} font-size="${t.size}">${escapeXml(t.text)}</text>`);
  }
  if (opts.yLabel) {
    const cy = (f.top + f.bottom) / 2, t = fitFont(opts.yLabel, f.bottom - f.top + 20, 12, 9);
    g.push(`<text x="16" y="${n2(cy)}" text-anchor="middle" transform="rotate(-90 16 ${n2(cy)})" ${FONT} font-size="${t.size}">${escapeXml(t.text)}</text>`);
  }
  g.push('</g>');
  out.push(...g);
}

/** A marker of `shape` centred at (x, y), radius about r. */
function marker(shape: MarkerShape, x: number, y: number, r: number, color: string, cls = 'point'): string {
  if (shape.endsWith('-open')) { // the filled shape's outline
    const filled = marker(shape.slice(0, -5) as MarkerShape, x, y, r * 0.9, color, cls);
    return filled.replace(/fill="[^"]*"\/>$/, `fill="#ffffff" stroke="${escapeXml(color)}" stroke-width="1.6"/>`);
  }
  const c = escapeXml(color), pts = (p: Array<[number, number]>): string => p.map(([a, b]) => `${n2(x + a * r)},${n2(y + b * r)}`).join(' ');
  switch (shape) {
    case 'square': return `<rect class="${cls}" x="${n2(x - 0.85 * r)}" y="${n2(y - 0.85 * r)}" width="${n2(1.7 * r)}" height="${n2(1.7 * r)}" fill="${c}"/>`;
    case 'triangle': return `<polygon class="${cls}" points="${pts([[0, -1.15], [1.05, 0.75], [-1.05, 0.75]])}" fill="${c}"/>`;
    case 'triangle-down': return `<polygon class="${cls}" points="${pts([[0, 1.15], [1.05, -0.75], [-1.05, -0.75]])}" fill="${c}"/>`;
    case 'diamond': return `<polygon class="${cls}" points="${pts([[0, -1.2], [1.05, 0], [0, 1.2], [-1.05, 0]])}" fill="${c}"/>`;
    case 'cross': return `<path class="${cls}" d="M${pts([[-0.9, -0.9]])} L${pts([[0.9, 0.9]])} M${pts([[-0.9, 0.9]])} L${pts([[0.9, -0.9]])}" stroke="${c}" stroke-width="2.2" fill="none"/>`;
    case 'plus': return `<path class="${cls}" d="M${pts([[-1.1, 0]])} L${pts([[1.1, 0]])} M${pts([[0, -1.1]])} L${pts([[0, 1.1]])}" stroke="${c}" stroke-width="2.2" fill="none"/>`;
    case 'star': {
      const p: Array<[number, number]> = [];
      for (let i = 0; i < 10; i++) { const a = -Math.PI / 2 + (i * Math.PI) / 5, rr = i % 2 ? 0.5 : 1.25; p.push([rr * Math.cos(a), rr * Math.sin(a)]); }
      return `<polygon class="${cls}" points="${pts(p)}" fill="${c}"/>`;
    }
    default: return `<circle class="${cls}" cx="${n2(x)}" cy="${n2(y)}" r="${n2(r)}" fill="${c}"/>`;
  }
}

/** The legend at (x, y): rows of 18 px (closer and smaller when they would run off the canvas), names cut to fit. */
function legend(out: string[], x: number, y: number, all: readonly LegendEntry[], w: number, h: number): void {
  if (all.length === 0) return;
  const fit = Math.max(1, Math.floor((h - 4 - y) / 9)); // rows that fit at the smallest spacing
  const entries = all.length <= fit ? all : [...all.slice(0, fit - 1), { name: `… ${all.length - fit + 1} more`, color: '#ffffff' }];
  const step = Math.max(9, Math.min(18, (h - 4 - y) / entries.length)), size = Math.min(12, step - 2);
  out.push('<g class="legend">');
  entries.forEach((e, i) => {
    const yy = y + i * step, c = escapeXml(e.color), cy = yy + size / 2;
    if (e.line) out.push(`<line x1="${n2(x)}" y1="${n2(cy)}" x2="${n2(x + 14)}" y2="${n2(cy)}" stroke="${c}" stroke-width="2"${e.dash ? ` stroke-dasharray="${escapeXml(e.dash)}"` : ''}/>`);
    if (e.marker) out.push(marker(e.marker, x + 7, cy, Math.min(5, size / 2.4), e.color, 'legend-marker'));
    if (!e.line && !e.marker) out.push(`<rect x="${n2(x)}" y="${n2(yy)}" width="${n2(size)}" height="${n2(size)}" fill="${c}"/>`);
    out.push(`<text x="${n2(x + 20)}" y="${n2(yy + size * 0.85)}" ${FONT} font-size="${n2(size)}">${escapeXml(fitText(e.name, w - x - 22, size))}</text>`);
  });
  out.push('</g>');
}

/** Checks series and collects their finite x and y values (FliqsError naming `input[i]` otherwise). */
function seriesValues(series: readonly Series[], input: string, xs: number[], ys: number[]): void {
  series.forEach((s, i) => {
    const len = s?.x?.length;
    if (!len || s.y?.length !== len) {
      throw new FliqsError(`${input}[${i}]`, `has ${describe(s?.x)} x and ${describe(s?.y)} y`, 'x and y of the same non-zero length');
    }
    for (let j = 0; j < len; j++) {
      xs.push(checkFinite(`${input}[${i}].x[${j}]`, s.x[j]!));
      ys.push(checkFinite(`${input}[${i}].y[${j}]`, s.y[j]!));
    }
  });
}

/** Draws `series` as lines (and markers) in a frame. */
function drawLines(out: string[], series: readonly Series[], xa: Axis, ya: Axis, palette: readonly string[], markers: boolean | undefined): void {
  series.forEach((s, i) => {
    const color = palette[i % palette.length]!;
    const pts = Array.from({ length: s.x.length }, (_, j) => `${n2(xa.map(s.x[j]!))},${n2(ya.map(s.y[j]!))}`);
    out.push(`<path class="series" d="M${pts.join(' L')}" fill="none" stroke="${escapeXml(color)}" stroke-width="2"/>`);
    if (markers ?? s.x.length <= 40) {
      for (const p of pts) {
        const [px, py] = p.split(',');
        out.push(`<circle class="point" cx="${px}" cy="${py}" r="3" fill="${escapeXml(color)}"/>`);
      }
    }
  });
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
  seriesValues(series, 'series', xs, ys);
  const palette = opts.palette ?? DEFAULT_PALETTE;
  const f = frame(w, h, opts, series.map((s) => s.name));
  const xa = makeAxis(xs, opts.logX ?? false, f.left, f.right, 'x');
  const ya = makeAxis(ys, opts.logY ?? false, f.bottom, f.top, 'y');
  const out = open(w, h, opts.title);
  axes(out, f, xa, ya, opts, w);
  drawLines(out, series, xa, ya, palette, opts.markers);
  legend(out, f.right + 14, f.top + 4, series.map((s, i) => ({ name: s.name, color: palette[i % palette.length]! })), w, h);
  out.push('</svg>');
  return out.join('\n');
}

/**
 * Panels stacked over one shared x axis, each with its own series, y axis, y label and legend (e.g. the loss,
 * the quality Q and the reward of a search, whose scales differ). The x label is written under the last panel.
 * @example
 * stackedLinePlot([{ yLabel: 'loss', series: [{ name: 'loss', x: [1, 2], y: [2, 1] }] },
 *   { yLabel: 'Q', series: [{ name: 'Q', x: [1, 2], y: [0.5, 0.7] }] }], { xLabel: 'step' });
 */
export function stackedLinePlot(panels: readonly Panel[], opts: LinePlotOptions = {}): string {
  if (!Array.isArray(panels) || panels.length === 0) throw new FliqsError('panels', `got ${describe(panels)}`, 'a non-empty array of { series, yLabel }');
  const [w, h] = size({ ...opts, height: opts.height ?? 40 + 190 * panels.length });
  const xs: number[] = [];
  const yss = panels.map((p, i) => {
    if (!p || !Array.isArray(p.series) || p.series.length === 0) throw new FliqsError(`panels[${i}].series`, `got ${describe(p?.series)}`, 'a non-empty array of { name, x, y }');
    const ys: number[] = [];
    seriesValues(p.series, `panels[${i}].series`, xs, ys);
    return ys;
  });
  const palette = opts.palette ?? DEFAULT_PALETTE;
  const base = frame(w, h, opts, panels.flatMap((p: Panel) => p.series.map((s) => s.name)));
  const gap = 16, ph = (base.bottom - base.top - gap * (panels.length - 1)) / panels.length;
  const out = open(w, h, opts.title);
  let offset = 0;
  panels.forEach((p, i) => {
    const f: Frame = { ...base, top: base.top + i * (ph + gap), bottom: base.top + i * (ph + gap) + ph };
    const xa = makeAxis(xs, opts.logX ?? false, f.left, f.right, 'x');
    const ya = makeAxis(yss[i]!, p.logY ?? false, f.bottom, f.top, `panels[${i}] y`);
    const last = i === panels.length - 1;
    axes(out, f, xa, ya, { xLabel: last ? opts.xLabel : undefined, yLabel: p.yLabel }, w, !last);
    const colors = palette.slice(offset).concat(palette.slice(0, offset));
    drawLines(out, p.series, xa, ya, colors, opts.markers);
    legend(out, f.right + 14, f.top + 4, p.series.map((s: Series, j: number) => ({ name: s.name, color: colors[j % colors.length]! })), w, f.bottom + 4);
    offset = (offset + p.series.length) % palette.length;
  });
  out.push('</svg>');
  return out.join('\n');
}

/**
 * A scatter plot with optional error bars, per-point labels, marker shapes and series colours (e.g. accuracy vs
 * MBOPs). A label that would run off the canvas is written on the point's other side.
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
    if (p.marker !== undefined && !(MARKER_SHAPES as readonly string[]).includes(p.marker)) {
      throw new FliqsError(`points[${i}].marker`, `got ${describe(p.marker)}`, MARKER_SHAPES.join(', '));
    }
    xs.push(x, opts.logX && x - xe <= 0 ? x : x - xe, x + xe);
    ys.push(y, opts.logY && y - ye <= 0 ? y : y - ye, y + ye);
  });
  const lines = opts.lines ?? [];
  seriesValues(lines, 'lines', xs, ys);
  const names = [...new Set(points.map((p) => p.series ?? ''))];
  const named = names.filter((s) => s !== '');
  const palette = opts.palette ?? DEFAULT_PALETTE;
  const colorOf = (s: string | undefined): string => palette[names.indexOf(s ?? '') % palette.length]!;
  const lineColor = (i: number): string => lines[i]!.color ?? palette[(names.length + i) % palette.length]!;
  const entries: LegendEntry[] = opts.legend ? [...opts.legend]
    : [...named.map((s) => ({ name: s, color: colorOf(s) })), ...lines.map((s, i) => ({ name: s.name, color: lineColor(i) }))];
  const f = frame(w, h, opts, entries.map((e) => e.name));
  const xa = makeAxis(xs, opts.logX ?? false, f.left, f.right, 'x');
  const ya = makeAxis(ys, opts.logY ?? false, f.bottom, f.top, 'y');
  const out = open(w, h, opts.title);
  axes(out, f, xa, ya, opts, w);
  if (opts.connect) {
    for (const s of names) {
      const pts = points.filter((p) => (p.series ?? '') === s).sort((a, b) => a.x - b.x);
      if (pts.length < 2) continue;
      out.push(`<path class="series" d="M${pts.map((p) => `${n2(xa.map(p.x))},${n2(ya.map(p.y))}`).join(' L')}" fill="none" stroke="${escapeXml(colorOf(s))}" stroke-width="1.5"/>`);
    }
  }
  lines.forEach((s, i) => {
    const d = Array.from({ length: s.x.length }, (_, j) => `${n2(xa.map(s.x[j]!))},${n2(ya.map(s.y[j]!))}`).join(' L');
    out.push(`<path class="series" d="M${d}" fill="none" stroke="${escapeXml(lineColor(i))}" stroke-width="1.5" stroke-dasharray="${escapeXml(s.dash ?? '5 3')}"/>`);
  });
  for (const p of points) {
    const color = p.color ?? colorOf(p.series), c = escapeXml(color), px = xa.map(p.x), py = ya.map(p.y);
    if (p.yErr !== undefined) {
      const e = Math.abs(p.yErr), lo = opts.logY ? Math.max(p.y - e, p.y * 1e-3) : p.y - e;
      out.push(`<line class="errorbar" x1="${n2(px)}" y1="${n2(ya.map(lo))}" x2="${n2(px)}" y2="${n2(ya.map(p.y + e))}" stroke="${c}"/>`,
        `<line class="errorbar-cap" x1="${n2(px - 3)}" y1="${n2(ya.map(lo))}" x2="${n2(px + 3)}" y2="${n2(ya.map(lo))}" stroke="${c}"/>`,
        `<line class="errorbar-cap" x1="${n2(px - 3)}" y1="${n2(ya.map(p.y + e))}" x2="${n2(px + 3)}" y2="${n2(ya.map(p.y + e))}" stroke="${c}"/>`);
    }
    if (p.xErr !== undefined) {
      const e = Math.abs(p.xErr), lo = opts.logX ? Math.max(p.x - e, p.x * 1e-3) : p.x - e;
      out.push(`<line class="errorbar" x1="${n2(xa.map(lo))}" y1="${n2(py)}" x2="${n2(xa.map(p.x + e))}" y2="${n2(py)}" stroke="${c}"/>`);
    }
    out.push(marker(p.marker ?? 'circle', px, py, 4, color));
    if (p.label) {
      const right = px + 6 + textWidth(p.label, 10) <= w - 2;
      const text = fitText(p.label, right ? w - px - 8 : px - 8, 10), y = Math.max(12, py - 6);
      out.push(`<text class="label" x="${n2(right ? px + 6 : px - 6)}" y="${n2(y)}"${right ? '' : ' text-anchor="end"'} ${FONT} font-size="10">${escapeXml(text)}</text>`);
    }
  }
  legend(out, f.right + 14, f.top + 4, entries, w, h);
  out.push('</svg>');
  return out.join('\n');
}

const SIN45 = Math.SQRT1_2;

/** Row labels (12 px, right-aligned before the cells): the width they take, at most 35% of the canvas, and the labels cut to it. */
function rowLabelLayout(labels: readonly string[], w: number): { left: number; texts: string[] } {
  const left = Math.min(0.35 * w, 14 + Math.max(...labels.map((s) => textWidth(s, 12))));
  return { left, texts: labels.map((s) => fitText(s, left - 8, 12)) };
}

/**
 * Column labels (10 px, rotated −45°, ending under their column's centre at `bottom` + 8): the bottom margin they
 * need (plus `below` px for an x label), limited to 45% of the canvas height, and each label cut to its room
 * (down and left of its anchor).
 */
function columnLabelMargin(labels: readonly string[], below: number): number {
  return 22 + below + SIN45 * Math.max(0, ...labels.map((s) => textWidth(s, 10)));
}
function columnLabelTexts(labels: readonly string[], margin: number, below: number, xOf: (j: number) => number): string[] {
  // the rotated box reaches sin45·(width + 2.5) below its anchor (bottom + 8) and sin45·(width + 8) left of it
  return labels.map((s, j) => fitText(s, Math.min((margin - 10 - below) / SIN45 - 3, (xOf(j) - 2) / SIN45 - 8), 10));
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
  const want = opts.columns ? columnLabelMargin(opts.columns, 0) : 24;
  const [w0, h0] = [opts.width ?? 640, opts.height ?? Math.max(120, (opts.title ? 34 : 14) + rows.length * 28 + want)];
  const [w, h] = size({ ...opts, width: w0, height: h0 });
  const { left, texts } = rowLabelLayout(rows.map((r) => r.label), w);
  const right = w - 110, top = opts.title ? 34 : 14, bottom = h - Math.min(want, 0.45 * h);
  const cw = (right - left) / cols, ch = (bottom - top) / rows.length;
  const out = open(w, h, opts.title);
  rows.forEach((r, i) => {
    const y = top + i * ch;
    out.push(`<text x="${n2(left - 6)}" y="${n2(y + ch / 2 + 4)}" text-anchor="end" ${FONT} font-size="12">${escapeXml(texts[i]!)}</text>`);
    r.cells.forEach((c: string, j: number) => {
      out.push(`<rect class="cell" x="${n2(left + j * cw)}" y="${n2(y)}" width="${n2(cw)}" height="${n2(ch)}" fill="${escapeXml(colorOf(c))}" stroke="#ffffff"><title>${escapeXml(`${r.label} ${opts.columns?.[j] ?? j}: ${c}`)}</title></rect>`);
    });
  });
  if (opts.columns) {
    const xOf = (j: number): number => left + (j + 0.5) * cw;
    columnLabelTexts(opts.columns, h - bottom, 0, xOf).forEach((c, j) => {
      const x = xOf(j), y = bottom + 8;
      out.push(`<text x="${n2(x)}" y="${n2(y)}" text-anchor="end" transform="rotate(-45 ${n2(x)} ${n2(y)})" ${FONT} font-size="10">${escapeXml(c)}</text>`);
    });
  }
  legend(out, right + 14, top + 4, cats.map((c) => ({ name: c, color: colorOf(c) })), w, h);
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
  const below = opts.xLabel ? 18 : 0, want = columnLabelMargin(colLabels, below);
  const [w0, h0] = [opts.width ?? 640, opts.height ?? Math.max(140, (opts.title ? 34 : 14) + values.length * 28 + want)];
  const [w, h] = size({ ...opts, width: w0, height: h0 });
  const rows = rowLabelLayout(rowLabels, w), left = rows.left;
  const barTicks = [tickText(max), tickText(min)], barTickW = Math.max(...barTicks.map((t) => textWidth(t, 10)));
  const right = w - (54 + barTickW + (opts.colorLabel ? 18 : 0)), top = opts.title ? 34 : 14, bottom = h - Math.min(want, 0.45 * h);
  const cw = (right - left) / cols, ch = (bottom - top) / values.length;
  const t = (v: number): number => (max > min ? (v - min) / (max - min) : 0.5);
  const out = open(w, h, opts.title);
  values.forEach((r, i) => {
    const y = top + i * ch;
    out.push(`<text x="${n2(left - 6)}" y="${n2(y + ch / 2 + 4)}" text-anchor="end" ${FONT} font-size="12">${escapeXml(rows.texts[i]!)}</text>`);
    r.forEach((v: number, j: number) => {
      const x = left + j * cw;
      out.push(`<rect class="cell" x="${n2(x)}" y="${n2(y)}" width="${n2(cw)}" height="${n2(ch)}" fill="${ramp(t(v))}" stroke="#ffffff"><title>${escapeXml(`${rowLabels[i]} × ${colLabels[j]}: ${v}`)}</title></rect>`);
      if (showValues) {
        out.push(`<text x="${n2(x + cw / 2)}" y="${n2(y + ch / 2 + 4)}" text-anchor="middle" ${FONT} font-size="10" fill="${t(v) > 0.55 ? '#ffffff' : '#000000'}">${escapeXml(tickText(Number(v.toFixed(digits))))}</text>`);
      }
    });
  });
  const xOf = (j: number): number => left + (j + 0.5) * cw;
  columnLabelTexts(colLabels, h - bottom, below, xOf).forEach((c, j) => {
    const x = xOf(j), y = bottom + 8;
    out.push(`<text x="${n2(x)}" y="${n2(y)}" text-anchor="end" transform="rotate(-45 ${n2(x)} ${n2(y)})" ${FONT} font-size="10">${escapeXml(c)}</text>`);
  });
  if (opts.xLabel) {
    const t = fitFont(opts.xLabel, 2 * Math.min((left + right) / 2, w - (left + right) / 2) - 8, 12, 9);
    out.push(`<text x="${n2((left + right) / 2)}" y="${n2(h - 6)}" text-anchor="middle" ${FONT} font-size="${t.size}">${escapeXml(t.text)}</text>`);
  }
  // colour bar
  const bx = right + 20, steps = 10;
  out.push('<g class="colorbar">');
  for (let s = 0; s < steps; s++) {
    const y = top + ((bottom - top) * s) / steps;
    out.push(`<rect x="${n2(bx)}" y="${n2(y)}" width="14" height="${n2((bottom - top) / steps + 0.5)}" fill="${ramp(1 - (s + 0.5) / steps)}"/>`);
  }
  out.push(`<text x="${n2(bx + 18)}" y="${n2(top + 10)}" ${FONT} font-size="10">${escapeXml(barTicks[0]!)}</text>`,
    `<text x="${n2(bx + 18)}" y="${n2(bottom)}" ${FONT} font-size="10">${escapeXml(barTicks[1]!)}</text>`);
  if (opts.colorLabel) {
    const lx = bx + 18 + barTickW + 14, cy = (top + bottom) / 2, t = fitFont(opts.colorLabel, bottom - top, 11, 8);
    out.push(`<text class="colorbar-label" x="${n2(lx)}" y="${n2(cy)}" text-anchor="middle" transform="rotate(-90 ${n2(lx)} ${n2(cy)})" ${FONT} font-size="${t.size}">${escapeXml(t.text)}</text>`);
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n');
}
