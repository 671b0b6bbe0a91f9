// `fliqs train` as a user runs it: files written, a run killed mid-way resumes to the same result,
// bad flags are usage errors.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const NODE = [process.execPath, '--experimental-wasm-relaxed-simd', 'dist/cli/main.js'];
const ARGS = ['train', '--model', 'cnn', '--data', 'synthetic', '--epochs', '3', '--batch', '32', '--format', 'INT8', '--augment', '1',
  '--checkpoint-every', '5', '--log-every', '5', '--seed', '4'];

function fliqs(...args: string[]) {
  const r = spawnSync(NODE[0]!, [...NODE.slice(1), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** log.jsonl without the wall-clock fields. */
function log(dir: string): unknown[] {
  return readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { imagesPerSec: _, ...rest } = JSON.parse(l);
    return rest;
  });
}

describe('fliqs train', () => {
  const root = mkdtempSync(join(tmpdir(), 'fliqs-train-'));

  it('writes config, log, result; a run killed mid-way resumes to the identical result', async () => {
    const full = join(root, 'full'), cut = join(root, 'cut');
    const r = fliqs(...ARGS, '--out', full);
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(readFileSync(join(full, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ model: 'cnn', format: 'INT8', data: 'synthetic' });
    expect(result.testAccuracy).toBeGreaterThan(0.5);
    expect(result.layers).toHaveLength(3);
    expect(JSON.parse(readFileSync(join(full, 'config.json'), 'utf8'))).toMatchObject({ model: 'cnn', epochs: 3, seed: 4 });

    // Kill a second, identical run as soon as it has written a checkpoint, then resume it.
    const child = spawn(NODE[0]!, [...NODE.slice(1), ...ARGS, '--out', cut], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (existsSync(join(cut, 'checkpoint.bin'))) { clearInterval(poll); child.kill('SIGKILL'); resolve(); }
        else if (Date.now() - t0 > 60_000) { clearInterval(poll); reject(new Error('no checkpoint appeared')); }
      }, 5);
    });
    await new Promise((resolve) => child.on('exit', resolve));
    expect(existsSync(join(cut, 'result.json')), 'the killed run must not have finished').toBe(false);
    const resumed = fliqs('train', '--resume', '--out', cut, '--threads', '1'); // another thread count, the same result
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/resuming .* at step \d+/);
    const again = JSON.parse(readFileSync(join(cut, 'result.json'), 'utf8'));
    expect([again.threads, JSON.parse(readFileSync(join(cut, 'config.json'), 'utf8')).threads]).toEqual([1, undefined]);
    expect(result.threads).toBeGreaterThanOrEqual(1);
    const strip = (x: Record<string, unknown>) => ({ ...x, wallSeconds: 0, threads: 0 });
    expect(strip(again)).toEqual(strip(result));
    expect(log(cut)).toEqual(log(full));
  });

  // Synthetic data: 2000 training images, batch 32 → 62 steps per epoch, T = 186; activation profiling covers
  // steps 37–40. Stopping after the first epoch and right after profiling must both resume exactly.
  it.each([62, 41])('--stop-after %i then --resume gives the uninterrupted run', (k) => {
    const full = join(root, 'full'), cut = join(root, `stop-${k}`);
    if (!existsSync(join(full, 'result.json'))) expect(fliqs(...ARGS, '--out', full).code).toBe(0);
    const first = fliqs(...ARGS, '--stop-after', String(k), '--out', cut);
    expect(first.code, first.err).toBe(0);
    expect(first.err).toContain(`stopped after step ${k}`);
    expect(existsSync(join(cut, 'result.json'))).toBe(false);
    const rest = fliqs('train', '--resume', '--out', cut);
    expect(rest.code, rest.err).toBe(0);
    expect(rest.err).toContain(`resuming ${cut} at step ${k}/186`);
    const strip = (x: Record<string, unknown>) => ({ ...x, wallSeconds: 0 });
    expect(strip(JSON.parse(readFileSync(join(cut, 'result.json'), 'utf8')))).toEqual(strip(JSON.parse(readFileSync(join(full, 'result.json'), 'utf8'))));
    expect(log(cut)).toEqual(log(full));
  });

  it('a corrupt checkpoint is a clear error, not a stack trace', () => {
    const dir = join(root, 'corrupt');
    expect(fliqs(...ARGS, '--stop-after', '20', '--out', dir).code).toBe(0);
    const bytes = readFileSync(join(dir, 'checkpoint.bin'));
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    writeFileSync(join(dir, 'checkpoint.bin'), bytes);
    const r = fliqs('train', '--resume', '--out', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/checkpoint\.bin: is not a usable checkpoint: checksum mismatch/);
    expect(r.err).not.toMatch(/at .*\.js:\d+/);
  });

  it('refuses to overwrite a run and reports bad flags as usage errors', () => {
    const dir = join(root, 'x');
    expect(fliqs(...ARGS, '--epochs', '1', '--out', dir).code).toBe(0);
    const again = fliqs(...ARGS, '--out', dir);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a run/);
    for (const [flags, msg] of [
      [['--model', 'resnet9'], /--model: "resnet9" is not a zoo model; accepted: .*lenet5.*JSON model spec file/],
      [['--format', 'FP8'], /format: "FP8"/],
      [['--epochs', 'two'], /--epochs "two" is not an integer/],
      [['--bogus'], /unknown flag --bogus/],
      [['--resume', '--out', join(root, 'none')], /config.json does not exist/],
    ] as const) {
      const r = fliqs('train', ...flags);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });
});
