// Where fliqs keeps downloaded data: $FLIQS_CACHE, else the platform's user cache folder
// ($XDG_CACHE_HOME/fliqs or ~/.cache/fliqs on Linux, ~/Library/Caches/fliqs on macOS, %LOCALAPPDATA%\fliqs on Windows).

import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The user cache folder of fliqs (not created here).
 * @example
 * userCacheDir({ FLIQS_CACHE: '/data/fliqs' }); // '/data/fliqs'
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (env['FLIQS_CACHE']) return env['FLIQS_CACHE'];
  if (platform === 'win32') return join(env['LOCALAPPDATA'] || join(home, 'AppData', 'Local'), 'fliqs');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'fliqs');
  return join(env['XDG_CACHE_HOME'] || join(home, '.cache'), 'fliqs');
}
