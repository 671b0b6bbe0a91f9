// Starting `fliqs serve` (from dist/) on a free port for the tests.
import { spawn, type ChildProcess } from 'node:child_process';

/** Starts `fliqs serve --port 0 …` and resolves with its base URL (from the line it prints). */
export function serve(args: string[] = []): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--experimental-wasm-relaxed-simd', 'dist/cli/main.js', 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/\S+?\/)demo\//.exec(out);
      if (m) ok({ child, base: m[1]! });
    });
    child.on('close', (code) => fail(new Error(`fliqs serve exited with ${code}: ${out}`)));
  });
}

