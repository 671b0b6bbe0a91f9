// Plain-text tables for the terminal (right-aligned numbers, left-aligned text).

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const width = header.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? '').length)));
  const fmt = (r: string[]): string => r.map((c, j) => (j === 0 ? c.padEnd(width[j]!) : c.padStart(width[j]!))).join('  ');
  return [fmt(cells[0]!), width.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}
