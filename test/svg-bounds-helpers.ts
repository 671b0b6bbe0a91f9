// The SVG bounds check of test/svg-bounds.test.ts (issue 15 item 4), shared with the CLI tests that draw plots: a
// text's box is estimated as TEXT_WIDTH (0.6) × font size × characters wide, 0.8 × size above its baseline and
// 0.25 × size below, placed by text-anchor and turned by its rotate() transform; every box must lie in the canvas.
import { TEXT_WIDTH } from '../src/report/svg.js';

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const attr = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

/** Every <text> whose estimated box leaves the canvas, as readable strings (empty when all fit). */
export function textsOutside(svg: string): string[] {
  const W = Number(attr(/<svg[^>]*>/.exec(svg)![0], 'width')), H = Number(attr(/<svg[^>]*>/.exec(svg)![0], 'height'));
  if (!(W > 0 && H > 0)) return [`no width and height on <svg>`];
  const bad: string[] = [];
  for (const m of svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)) {
    const tag = m[1]!, text = unescape(m[2]!);
    const x = Number(attr(tag, 'x') ?? 0), y = Number(attr(tag, 'y') ?? 0), size = Number(attr(tag, 'font-size') ?? 16);
    const width = TEXT_WIDTH * size * [...text].length, anchor = attr(tag, 'text-anchor') ?? 'start';
    const x0 = anchor === 'middle' ? x - width / 2 : anchor === 'end' ? x - width : x;
    let corners: Array<[number, number]> = [[x0, y - 0.8 * size], [x0 + width, y - 0.8 * size], [x0, y + 0.25 * size], [x0 + width, y + 0.25 * size]];
    const rot = /rotate\(\s*(-?[\d.]+)(?:[\s,]+(-?[\d.]+)[\s,]+(-?[\d.]+))?\s*\)/.exec(attr(tag, 'transform') ?? '');
    if (rot) {
      const a = (Number(rot[1]) * Math.PI) / 180, cx = Number(rot[2] ?? 0), cy = Number(rot[3] ?? 0);
      corners = corners.map(([px, py]) => [cx + (px - cx) * Math.cos(a) - (py - cy) * Math.sin(a), cy + (px - cx) * Math.sin(a) + (py - cy) * Math.cos(a)]);
    }
    const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
    if (Math.min(...xs) < -0.5 || Math.max(...xs) > W + 0.5 || Math.min(...ys) < -0.5 || Math.max(...ys) > H + 0.5) {
      bad.push(`"${text}" at (${x}, ${y}) size ${size}${rot ? ` rotated ${rot[1]}` : ''}: x ${Math.min(...xs).toFixed(1)}…${Math.max(...xs).toFixed(1)} of ${W}, y ${Math.min(...ys).toFixed(1)}…${Math.max(...ys).toFixed(1)} of ${H}`);
    }
  }
  return bad;
}
