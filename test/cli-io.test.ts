// Files that cannot be written, as a user's disk produces them (issue 17, item 2): a path through a file, a
// file-size limit standing in for a full disk, a closed output pipe, temp files a kill left behind. Each is
// one line naming the file and the cause, exit 1 (I/O), no stack trace, no temp file left.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = `"${process.execPath}" --experimental-wasm-relaxed-simd dist/cli/main.js`;
const TRAIN = 'train --model cnn --data synthetic --limit 256 --epochs 1 --batch 32 --checkpoint-every 2';

/** Runs a shell line (for ulimit and pipes); returns its exit code and output. */
function sh(line: string) {
  const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const oneLine = (err: string) => err.trim().split('\n').filter((l) => l.startsWith('fliqs '));
const noStack = (err: string) => !/\n\s+at |node:internal|Error: /.test(err);

describe('fliqs and files it cannot write', () => {
  const root = mkdtempSync(join(tmpdir(), 'fliqs-io-'));

  it('--out through a file: one line naming the file and the cause, exit 1', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const r = sh(`${CLI} ${TRAIN} --out ${file}/run`);
    expect(r.code, r.err).toBe(1);
    expect(noStack(r.err), r.err).toBe(true);
    expect(oneLine(r.err).join('\n')).toMatch(new RegExp(`${file}/run/config.json: cannot be written \\(ENOTDIR`));
  });

  it('a full disk (a file-size limit) during checkpoints: one line, exit 1, no temp file left', () => {
    const out = join(root, 'full');
    const r = sh(`ulimit -f 8; ${CLI} ${TRAIN} --out ${out}`);
    expect(r.code, r.err).toBe(1);
    expect(noStack(r.err), r.err).toBe(true);
    expect(oneLine(r.err).join('\n')).toMatch(/checkpoint\.bin: cannot be written \((EFBIG|ENOSPC)/);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a closed output pipe ends the command quietly', () => {
    const r = sh(`${CLI} demo | head -c 20 > /dev/null; echo "exit \${PIPESTATUS[0]}"`);
    expect(r.out.trim()).toBe('exit 0');
    expect(r.err).not.toMatch(/EPIPE/);
  });

  it('--resume removes temp files a kill left between write and rename', () => {
    const out = join(root, 'resume');
    expect(sh(`${CLI} ${TRAIN} --out ${out} --stop-after 2`).code).toBe(0);
    const stale = join(out, 'checkpoint.bin.12345.0badf00d.tmp'), mine = join(out, 'notes.tmp');
    writeFileSync(stale, 'torn');
    writeFileSync(mine, 'a user file that merely ends in .tmp');
    const r = sh(`${CLI} train --resume --out ${out}`);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(mine)).toBe(true);
  });
});
