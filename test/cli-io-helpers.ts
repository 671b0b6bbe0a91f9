// An Io for calling a command in-process: stdout and stderr captured as strings, the progress line sent to a
// non-TTY sink (so tests see no redraws).
import type { Io } from '../src/cli/search.js';

export function io(): Io & { o: string; e: string } {
  const sink = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
  const c = { o: '', e: '', out: (s: string) => { c.o += s; }, err: (s: string) => { c.e += s; }, progress: sink };
  return c;
}
