// Make a fresh clone ready: install dependencies when missing or older than
// package.json, then build whatever is stale. `npm start` and `npm test` run it first.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const marker = join(root, 'node_modules', '.package-lock.json');
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
if (!existsSync(marker) || mtime(join(root, 'package.json')) > mtime(marker) || mtime(join(root, 'package-lock.json')) > mtime(marker)) {
  console.error('ensure: installing dependencies');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // 'npm ci' refuses this lockfile: npm leaves deno's optional per-platform packages out of it.
  execFileSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
