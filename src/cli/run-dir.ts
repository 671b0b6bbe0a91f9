// A run directory (runs/NAME): config.json with every input, log.jsonl, checkpoint.bin, result.json.
// Starting over refuses to overwrite a run; --resume requires the same config and continues it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FliqsError } from '../core/errors.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointBlob } from '../train/checkpoint-file.js';
import { readJson, writeAtomic, writeJson } from './files.js';

export class RunDir {
  constructor(readonly path: string) {}

  get configFile(): string { return join(this.path, 'config.json'); }
  get logFile(): string { return join(this.path, 'log.jsonl'); }
  get checkpointFile(): string { return join(this.path, 'checkpoint.bin'); }
  get resultFile(): string { return join(this.path, 'result.json'); }

  /**
   * Fresh run: the directory must not hold a run already; writes config.json. Resume: returns the
   * config saved in config.json (the original run's flags), so `--resume --out DIR` is enough.
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
    return readJson<T>(this.configFile, '--resume');
  }

  saveCheckpoint(blob: CheckpointBlob): void {
    writeAtomic(this.checkpointFile, encodeCheckpoint(blob));
  }

  loadCheckpoint(): CheckpointBlob | null {
    if (!existsSync(this.checkpointFile)) return null;
    return decodeCheckpoint(new Uint8Array(readFileSync(this.checkpointFile)), this.checkpointFile);
  }

  /** Drops log lines at or after `step` (written after the checkpoint the run resumes from). */
  truncateLog(step: number): void {
    if (!existsSync(this.logFile)) return;
    const keep = readFileSync(this.logFile, 'utf8').split('\n').filter((l) => {
      if (!l.trim()) return false;
      try { return (JSON.parse(l) as { step?: number }).step! < step; } catch { return false; }
    });
    writeAtomic(this.logFile, keep.map((l) => `${l}\n`).join(''));
  }
}
