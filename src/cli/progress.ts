// A one-line progress display for long jobs: redrawn in place on a terminal (cut to its width, so it never
// wraps and \r can redraw it), printed at most every few seconds as whole plain lines when stderr is a pipe
// or a CI log.

export interface ProgressOptions {
  total: number;
  /** Minimum milliseconds between non-TTY lines (default 5000). */
  logEveryMs?: number;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private readonly start = Date.now();
  private lastLog = 0;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Shows `done / total` with a bar, rate and ETA, followed by `detail`. */
  update(done: number, detail = '', force = false): void {
    const now = Date.now();
    if (!this.tty && !force && now - this.lastLog < (this.opts.logEveryMs ?? 5000)) return;
    this.lastLog = now;
    const frac = this.opts.total > 0 ? Math.min(1, done / this.opts.total) : 1;
    const elapsed = (now - this.start) / 1000;
    const eta = frac > 0 ? elapsed * (1 / frac - 1) : NaN;
    const width = 20, filled = Math.round(frac * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const line = `${bar} ${done}/${this.opts.total} ${formatTime(elapsed)} elapsed, ETA ${formatTime(eta)}  ${detail}`;
    if (this.tty) this.stream.write(`\r\x1b[K${fitLine(line, this.stream.columns)}`);
    else this.stream.write(`${line}\n`);
  }

  /** Ends the line (on a terminal) so later output starts fresh. */
  done(detail = ''): void {
    this.update(this.opts.total, detail, true);
    if (this.tty) this.stream.write('\n');
  }
}

export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

/**
 * `line` cut to fit a terminal `columns` wide (one column spare: writing the last one wraps on some
 * terminals), ending in … when cut; unchanged when the width is unknown.
 * @example
 * fitLine('[####] 10/20 0:01 elapsed', 12); // '[####] 10/…'
 */
export function fitLine(line: string, columns: number | undefined): string {
  if (!columns || !(columns > 1)) return line;
  const chars = [...line]; // code points, so a cut never splits a surrogate pair
  return chars.length <= columns - 1 ? line : `${chars.slice(0, Math.max(0, columns - 2)).join('')}…`;
}
