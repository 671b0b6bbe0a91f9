// Test-only preload (`node --import ./test/rss-preload.mjs …`): when $FLIQS_TEST_RSS_DIR is set, each process
// (pareto's worker processes included, which inherit the flag) writes its peak resident memory in kB
// (process.resourceUsage().maxRSS) to $FLIQS_TEST_RSS_DIR/<pid> as it exits. Not part of the package.
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.FLIQS_TEST_RSS_DIR;
if (dir && isMainThread) {
  process.on('exit', () => {
    try { writeFileSync(`${dir}/${process.pid}`, String(process.resourceUsage().maxRSS)); } catch { /* the test sees no file */ }
  });
}
