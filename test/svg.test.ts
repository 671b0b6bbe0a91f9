// SVG plots: well-formed XML, the expected number of paths/points/cells, labels escaped, bad data rejected.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FliqsError } from '../src/core/errors.js';
import { categoryStrip, escapeXml, heatmap, linePlot, scatterPlot } from '../src/report/svg.js';
import { checkXml, countClass } from './xml-check.js';

function wellFormed(svg: string): Map<string, number> {
  const r = checkXml(svg);
  expect(r.error, svg.slice(0, 300)).toBeNull();
  return r.counts;
}

describe('the XML checker itself', () => {
  it('rejects broken documents', () => {
    expect(checkXml('<svg><g></svg>').error).not.toBeNull();
    expect(checkXml('<svg><text>a < b</text></svg>').error).not.toBeNull();
    expect(checkXml('<svg><text>a & b</text></svg>').error).not.toBeNull();
    expect(checkXml('<svg x="1></svg>').error).not.toBeNull();
    expect(checkXml('<svg/><svg/>').error).not.toBeNull();
    expect(checkXml('<svg><text>a &amp; b</text></svg>').error).toBeNull();
  });
});

describe('escapeXml', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
  });
});

describe('linePlot', () => {
  const series = [
    { name: 'INT4', x: [1, 2, 3, 4, 5], y: [0.5, 0.4, 0.3, 0.25, 0.2] },
    { name: 'INT8', x: [1, 2, 3, 4, 5], y: [0.3, 0.2, 0.1, 0.05, 0.02] },
  ];

  it('draws one path per series, one marker per point, the legend, title and axis labels', () => {
    const svg = linePlot(series, { title: 'loss', xLabel: 'step', yLabel: 'value', width: 500, height: 300 });
    const counts = wellFormed(svg);
    expect(countClass(svg, 'series')).toBe(2);
    expect(countClass(svg, 'point')).toBe(10);
    expect(counts.get('svg')).toBe(1);
    expect(svg).toContain('width="500" height="300"');
    for (const s of ['>loss<', '>step<', '>value<', '>INT4<', '>INT8<']) expect(svg).toContain(s);
    expect(countClass(svg, 'tick')).toBeGreaterThanOrEqual(4);
  });

  it('puts log-axis ticks at powers of ten', () => {
    const svg = linePlot([{ name: 'a', x: [1, 10, 100, 1000], y: [1, 2, 3, 4] }], { logX: true });
    wellFormed(svg);
    for (const t of ['>1<', '>10<', '>100<', '>1000<']) expect(svg).toContain(t);
  });

  it('escapes <&> in the title, labels and series names', () => {
    const svg = linePlot([{ name: 'a<b>&c', x: [0, 1], y: [0, 1] }], { title: 'x < y & z > w', xLabel: '<x>' });
    wellFormed(svg);
    expect(svg).toContain('a&lt;b&gt;&amp;c');
    expect(svg).toContain('x &lt; y &amp; z &gt; w');
    expect(svg).not.toContain('a<b>');
  });

  it('is well formed for any finite data, with one marker per point', () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
        { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 5 }),
      fc.string({ maxLength: 12 }),
      (ss, name) => {
        const svg = linePlot(ss.map((pts, i) => ({ name: `${name}${i}`, x: pts.map((p) => p[0]), y: pts.map((p) => p[1]) })), { title: name });
        expect(checkXml(svg).error).toBeNull();
        expect(countClass(svg, 'point')).toBe(ss.reduce((a, p) => a + p.length, 0));
        expect(svg).not.toContain('NaN');
      }), { numRuns: 60 });
  });

  it('copes with constant, tiny-spread and denormal data', () => {
    for (const y of [[3, 3, 3], [1e6, 1e6 + 1e-7, 1e6], [5e-324, 0, 5e-324], [0, 0, 0]]) {
      const svg = linePlot([{ name: 'a', x: [1, 2, 3], y }]);
      wellFormed(svg);
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
  });

  it('rejects empty, mismatched, NaN data and non-positive values on a log axis with a FliqsError', () => {
    expect(() => linePlot([])).toThrow(FliqsError);
    expect(() => linePlot([{ name: 'a', x: [], y: [] }])).toThrow(FliqsError);
    expect(() => linePlot([{ name: 'a', x: [1, 2], y: [1] }])).toThrow(FliqsError);
    expect(() => linePlot([{ name: 'a', x: [1, 2], y: [1, NaN] }])).toThrow(/series\[0\]\.y\[1\]/);
    expect(() => linePlot([{ name: 'a', x: [0, 1], y: [1, 2] }], { logX: true })).toThrow(FliqsError);
    expect(() => linePlot(series, { width: -5 })).toThrow(FliqsError);
  });
});

describe('scatterPlot', () => {
  it('draws points, error bars, labels, series legend and extra lines', () => {
    const pts = [
      { x: 10, y: 0.9, yErr: 0.01, label: 'INT4', series: 'FLIQS-S' },
      { x: 20, y: 0.95, yErr: 0.02, xErr: 1, label: 'INT8', series: 'FLIQS-S' },
      { x: 15, y: 0.93, label: 'E4M3 <fp>', series: 'FLIQS-L' },
    ];
    const svg = scatterPlot(pts, { connect: true, lines: [{ name: 'fit', x: [10, 20], y: [0.9, 0.95] }], xLabel: 'MBOPs' });
    wellFormed(svg);
    expect(countClass(svg, 'point')).toBe(3);
    expect(countClass(svg, 'errorbar')).toBe(3);
    expect(countClass(svg, 'label')).toBe(3);
    expect(countClass(svg, 'series')).toBe(2); // FLIQS-S connected + the fit line (FLIQS-L has one point)
    expect(svg).toContain('E4M3 &lt;fp&gt;');
    for (const s of ['>FLIQS-S<', '>FLIQS-L<', '>fit<', '>MBOPs<']) expect(svg).toContain(s);
  });

  it('rejects empty and NaN data', () => {
    expect(() => scatterPlot([])).toThrow(FliqsError);
    expect(() => scatterPlot([{ x: 1, y: NaN }])).toThrow(/points\[0\]\.y/);
    expect(() => scatterPlot([{ x: 1, y: 1, yErr: Infinity }])).toThrow(FliqsError);
  });
});

describe('categoryStrip', () => {
  it('draws rows × columns cells, one legend entry per category, row and column labels', () => {
    const rows = [
      { label: 'ResNet', cells: ['INT8', 'INT4', 'INT4', 'INT8'] },
      { label: 'MobileNet & co', cells: ['INT8', 'E4M3', 'INT4', 'BF16'] },
    ];
    const svg = categoryStrip(rows, { columns: ['conv1', 'conv2', 'conv3', 'fc'], title: 'formats' });
    wellFormed(svg);
    expect(countClass(svg, 'cell')).toBe(8);
    const legend = svg.slice(svg.indexOf('class="legend"'));
    expect((legend.match(/<rect /g) ?? []).length).toBe(4);
    for (const s of ['>ResNet<', '>MobileNet &amp; co<', '>conv3<', '>E4M3<', '>BF16<']) expect(svg).toContain(s);
  });

  it('uses fixed colours when given and rejects ragged or empty rows', () => {
    const svg = categoryStrip([{ label: 'a', cells: ['INT4', 'INT8'] }], { colors: { INT4: '#123456' } });
    expect(svg).toContain('fill="#123456"');
    expect(() => categoryStrip([])).toThrow(FliqsError);
    expect(() => categoryStrip([{ label: 'a', cells: ['x'] }, { label: 'b', cells: ['x', 'y'] }])).toThrow(/rows\[1\]/);
    expect(() => categoryStrip([{ label: 'a', cells: ['x'] }], { columns: ['c1', 'c2'] })).toThrow(FliqsError);
  });
});

describe('heatmap', () => {
  it('draws one cell per value with the values printed and labels escaped', () => {
    const svg = heatmap([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], { rowLabels: ['conv1', 'fc<1>'], colLabels: ['INT4', 'INT8', 'BF16'] });
    wellFormed(svg);
    expect(countClass(svg, 'cell')).toBe(6);
    expect(svg).toContain('>0.8<');
    expect(svg).toContain('fc&lt;1&gt;');
  });

  it('handles a constant matrix and rejects NaN, empty and ragged input', () => {
    wellFormed(heatmap([[1, 1], [1, 1]]));
    expect(() => heatmap([])).toThrow(FliqsError);
    expect(() => heatmap([[1, NaN]])).toThrow(/values\[0\]\[1\]/);
    expect(() => heatmap([[1, 2], [3]])).toThrow(FliqsError);
    expect(() => heatmap([[1, 2]], { rowLabels: ['a', 'b'] })).toThrow(FliqsError);
  });
});
