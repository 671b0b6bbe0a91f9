// Files that cannot be written, as a user's disk produces them (issue 17, item 2): a path through a file, a
// file-size limit standing in for a full disk, a closed output pipe, temp files a kill left behind: one line
// naming the file and the cause, exit 1 (I/O), no stack trace, no temp file left. And run-folder files that
// are not what fliqs wrote (items 4, 5): a folder or /dev/zero in a file's place, a config.json edited into
// null, a bad value or a new learning rate, a train run given to `report`: one line naming the file, exit 2.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it.runIf(existsSync('/proc/self'))('--out under /proc: one line, exit 1 (Node\'s recursive mkdir never returned there)', () => {
    const t0 = Date.now();
    const r = sh(`${CLI} ${TRAIN} --out /proc/fliqs-test-run`);
    expect(r.code, r.err).toBe(1);
    expect(oneLine(r.err).join('\n')).toMatch(/\/proc\/fliqs-test-run\/config\.json: cannot be written \(ENOENT/);
    expect(Date.now() - t0).toBeLessThan(20000);
  });

  it('a full disk (a file-size limit) during checkpoints: one line, exit 1, no temp file left', () => {
    const out = join(root, 'full');
    const r = sh(`trap '' XFSZ; ulimit -f 8; ${CLI} ${TRAIN} --out ${out}`);
    expect(r.code, r.err).toBe(1);
    expect(noStack(r.err), r.err).toBe(true);
    expect(oneLine(r.err).join('\n')).toMatch(/checkpoint\.bin: cannot be written \((EFBIG|ENOSPC)/);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  // Root writes through any mode bits, so as root the child runs as nobody (65534); otherwise the mode bits
  // suffice. A probe write decides whether the folder really is read-only to the child (else: skipped, said why).
  describe('a read-only folder', () => {
    const asRoot = process.getuid?.() === 0;
    const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
    const ro = join(root, 'read-only');
    chmodSync(root, 0o755); // nobody must reach it
    mkdirSync(ro);
    if (asRoot) chownSync(ro, 65534, 65534);
    chmodSync(ro, 0o555);
    const node = (args: string[]) => spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', ...args], { encoding: 'utf8', timeout: 60_000, ...ids });
    const probe = node(['-e', `require('fs').writeFileSync(${JSON.stringify(join(ro, 'probe'))}, 'x')`]);
    const cli = node(['dist/cli/main.js', '--version']);
    const reason = probe.status === 0 ? 'the child can write into a mode-0555 folder (privileges that ignore modes), so it cannot be read-only here'
      : cli.status !== 0 ? `the child${asRoot ? ' (as uid 65534)' : ''} cannot run dist/cli/main.js: ${cli.stderr.trim().split('\n')[0]}` : '';
    if (reason) console.warn(`skipping the read-only folder tests: ${reason}`);

    it.skipIf(reason !== '').each([
      ['search', 'search --model cnn --data synthetic --limit 256 --epochs 1 --batch 32'],
      ['train', TRAIN],
    ])('%s --out <read-only>/run: one line naming the file, exit 1, nothing written', (_, line) => {
      for (const out of [join(ro, 'run'), ro]) {
        const r = node(['dist/cli/main.js', ...line.split(' '), '--out', out]);
        expect(r.status, r.stderr).toBe(1);
        expect(noStack(r.stderr), r.stderr).toBe(true);
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`^fliqs [a-z]+: ${out}/?[^ ]*: cannot be written \\(EACCES: permission denied\\)`));
        expect(readdirSync(ro)).toEqual([]);
      }
    });
  });

  it('a full disk during a log append or a later checkpoint: one line, exit 1, the last good checkpoint kept and resumable', () => {
    // `trap '' XFSZ`: with SIGXFSZ ignored a write past `ulimit -f` (KB) fails with EFBIG, as on a full disk.
    const run = join(root, 'full-later');
    const made = sh(`${CLI} train --model cnn --data synthetic --limit 1024 --epochs 1 --batch 32 --checkpoint-every 24 --log-every 1 --stop-after 2 --out ${run}`);
    expect(made.code, made.err).toBe(0);
    const good = readFileSync(join(run, 'checkpoint.bin'));
    expect(good.length).toBeGreaterThan(100 * 1024);
    const logKB = Math.ceil(readFileSync(join(run, 'log.jsonl')).length / 1024);
    const cases: Array<[number, RegExp]> = [
      [logKB + 1, /^fliqs train: .*log\.jsonl: cannot be appended to \(EFBIG/], // the log reaches the limit within 20 steps
      [100, /^fliqs train: .*checkpoint\.bin: cannot be written \(EFBIG/], // the checkpoint at step 24 does not fit
    ];
    for (const [kb, want] of cases) {
      const r = sh(`trap '' XFSZ; ulimit -f ${kb}; ${CLI} train --resume --out ${run}`);
      expect(r.code, r.err).toBe(1);
      expect(noStack(r.err), r.err).toBe(true);
      expect(oneLine(r.err), r.err).toHaveLength(1);
      expect(oneLine(r.err)[0]).toMatch(want);
      expect(readFileSync(join(run, 'checkpoint.bin')).equals(good)).toBe(true);
      expect(readdirSync(run).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
    const resumed = sh(`${CLI} train --resume --out ${run}`); // the disk has room again
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/resuming .* at step 2\//);
    expect(existsSync(join(run, 'result.json'))).toBe(true);
  });

  it('a closed output pipe ends the command quietly', () => {
    const r = sh(`${CLI} demo | head -c 20 > /dev/null; echo "exit \${PIPESTATUS[0]}"`);
    expect(r.out.trim()).toBe('exit 0');
    expect(r.err).not.toMatch(/EPIPE/);
  });

  it('run-folder files that are not what fliqs wrote: one line naming the file, exit 2', () => {
    const base = join(root, 'base');
    expect(sh(`${CLI} ${TRAIN} --log-every 1 --out ${base} --stop-after 2`).code).toBe(0);
    const variant = (name: string, edit: (dir: string) => void): string => {
      const dir = join(root, name);
      cpSync(base, dir, { recursive: true });
      edit(dir);
      return dir;
    };
    const cases: Array<[string, string, RegExp]> = [
      [variant('ck-folder', (d) => { rmSync(join(d, 'checkpoint.bin')); mkdirSync(join(d, 'checkpoint.bin')); }), 'train --resume', /checkpoint\.bin: is a folder/],
      [variant('ck-zero', (d) => { rmSync(join(d, 'checkpoint.bin')); symlinkSync('/dev/zero', join(d, 'checkpoint.bin')); }), 'train --resume', /checkpoint\.bin: is not a regular file/],
      [variant('log-folder', (d) => { rmSync(join(d, 'log.jsonl')); mkdirSync(join(d, 'log.jsonl')); }), 'train --resume', /log\.jsonl: is a folder/],
      [variant('config-null', (d) => writeFileSync(join(d, 'config.json'), 'null')), 'train --resume', /config\.json: holds null/],
      [variant('config-edited', (d) => {
        const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, 'checkpoint-every': 'x' }));
      }), 'train --resume', /config\.json: has a value its flag refuses: --checkpoint-every "x"/],
      [variant('config-lr', (d) => {
        const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, lr: c.lr * 10 }));
      }), 'train --resume', /config\.json: was edited after the checkpoint was written \(lr /],
      // a train run's log is plotted (training curves); one whose lines are neither a search's nor a train's steps is not
      [variant('log-alien', (d) => writeFileSync(join(d, 'log.jsonl'), '{"step":1,"epoch":0}\n')), 'report', /log\.jsonl: line 1 is not a search step/],
    ];
    for (const [dir, cmd, want] of cases) {
      const t0 = Date.now();
      const r = cmd === 'report' ? sh(`${CLI} report ${dir}`) : sh(`${CLI} ${cmd} --out ${dir}`);
      expect(r.code, `${cmd} ${dir}: ${r.err}`).toBe(2);
      expect(noStack(r.err), r.err).toBe(true);
      expect(oneLine(r.err).join('\n')).toMatch(want);
      expect(Date.now() - t0).toBeLessThan(20000); // /dev/zero is refused, not read
    }
  });

  it('a search config.json edited into a bad value is refused on --resume', () => {
    const dir = join(root, 'search');
    const made = sh(`${CLI} search --model cnn --data synthetic --limit 256 --epochs 2 --batch 32 --stop-after 2 --out ${dir}`);
    expect(made.code, made.err).toBe(0);
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...c, lr: 'fast' }));
    const r = sh(`${CLI} search --resume --out ${dir}`);
    expect(r.code, r.err).toBe(2);
    expect(oneLine(r.err).join('\n')).toMatch(/config\.json: has lr = "fast"/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
    expect(sh(`${CLI} search --resume --out ${dir} --stop-after 1`).code).toBe(0); // the file as written still resumes
  });

  it('--resume says how many damaged log lines before the checkpoint it dropped', () => {
    const dir = join(root, 'damaged-log');
    expect(sh(`${CLI} ${TRAIN} --log-every 1 --out ${dir} --stop-after 4`).code).toBe(0);
    const lines = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    lines[1] = '{"step": 1, "loss": 2.3'; // damaged in the middle
    writeFileSync(join(dir, 'log.jsonl'), `${lines.join('\n')}\n{"st`); // and a torn tail, which is no news
    const r = sh(`${CLI} train --resume --out ${dir}`);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/note: dropped 1 damaged line\(s\) of .*log\.jsonl/);
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
