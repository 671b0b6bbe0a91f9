// Makes the CLI entry executable after tsc (npm links it as the `fliqs` bin).
import { chmodSync, existsSync } from 'node:fs';
if (existsSync('dist/cli/main.js')) chmodSync('dist/cli/main.js', 0o755);
