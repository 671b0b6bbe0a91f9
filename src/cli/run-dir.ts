// A run directory (runs/NAME): config.json with every input, log.jsonl, checkpoint.bin, result.json.
// Starting over refuses to overwrite a run; --resume requires the same config and continues it.

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import { TMP_PATTERN } from '../data/node/files.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointBlob } from '../train/checkpoint-file.js';
import { readJson, readRunFile, writeAtomic, writeJson } from './files.js';

export class RunDir {
  constructor(readonly path: string) {}

  get configFile(): string { return join(this.path, 'config.json'); }
  get logFile(): string { return join(this.path, 'log.jsonl'); }
  get checkpointFile(): string { return join(this.path, 'checkpoint.bin'); }
  get resultFile(): string { return join(this.path, 'result.json'); }

  /**
   * Fresh run: the directory must not hold a run already; writes config.json. Resume: removes temp files a
   * kill left behind and returns the config saved in config.json (the original run's flags), so
   * `--resume --out DIR` is enough.
   */
  begin<T extends object>(config: T, resume: boolean): T {
    if (!resume) {
      if (existsSync(this.configFile)) {
        throw new FliqsError('--out', `${this.path} already holds a run`, 'a new directory, or --resume to continue that run');
      }
      writeJson(this.configFile, config);
      writeAtomic(this.logFile, '');
      return config;
    }
    this.removeTemps();
    return readJson<T>(this.configFile, '--resume');
  }

  /** Removes the temp files of atomic writes that a kill interrupted (writeAtomic's `<file>.<pid>.<hex>.tmp`). */
  private removeTemps(): void {
    if (!existsSync(this.path)) return;
    for (const f of readdirSync(this.path)) if (TMP_PATTERN.test(f)) rmSync(join(this.path, f), { force: true });
  }

  saveCheckpoint(blob: CheckpointBlob): void {
    writeAtomic(this.checkpointFile, encodeCheckpoint(blob));
  }

  loadCheckpoint(): CheckpointBlob | null {
    if (!existsSync(this.checkpointFile)) return null;
    return decodeCheckpoint(new Uint8Array(readRunFile(this.checkpointFile)), this.checkpointFile);
  }

  /**
   * Drops log lines at or after `step` (written after the checkpoint the run resumes from) and lines that are
   * not JSON with a step. Returns how many of the latter came before the last good line: damage, not the
   * torn tail of a kill, which the caller reports.
   */
  truncateLog(step: number): number {
    if (!existsSync(this.logFile)) return 0;
    const lines = readRunFile(this.logFile).toString('utf8').split('\n').filter((l) => l.trim());
    const steps = lines.map((l) => {
      try {
        const s = (JSON.parse(l) as { step?: unknown } | null)?.step;
        return typeof s === 'number' ? s : null;
      } catch {
        return null;
      }
    });
    const lastGood = steps.reduce<number>((at, s, i) => (s !== null ? i : at), -1);
    const damaged = steps.filter((s, i) => s === null && i < lastGood).length;
    const keep = lines.filter((_, i) => steps[i] !== null && steps[i]! < step);
    writeAtomic(this.logFile, keep.map((l) => `${l}\n`).join(''));
    return damaged;
  }
}
