// How the orchestrators start a row: the runtimes (where each binary is, how
// to start it) and one row process in its own process group. Shared by
// bench/run.mjs (every row once) and bench/paired.mjs (two rows alternated).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const rowFile = join(root, 'bench', 'row.mjs');
const bin = (...p) => join(root, 'node_modules', ...p);

/** The first `node` on PATH outside node_modules (npm scripts put node_modules/.bin first). */
function machineNode() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.split(/[\\/]/).includes('node_modules')) continue;
    const p = join(dir, 'node');
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * Runtimes in report order: how to start each, or why it cannot be. Deno runs
 * with --unstable-net, which Deno.serve's reusePort needs (workers sharing a
 * port under --http-native).
 */
export const RUNTIMES = [
  { key: 'node', describe: 'machine node (first on PATH)', exe: machineNode, args: [] },
  { key: 'node24', describe: 'LTS node from node_modules', exe: () => bin(`node-${process.platform}-${process.arch}`, 'bin', 'node'), args: [] },
  { key: 'deno', describe: 'deno from node_modules', exe: () => bin('.bin', 'deno'), args: ['run', '-A', '--no-lock', '--unstable-net'] },
  { key: 'bun', describe: 'bun from node_modules', exe: () => bin('.bin', 'bun'), args: [] },
];

/** The row process running now, so a signal to the orchestrator can end its whole process group. */
let current = null;

function killGroup(pid) {
  try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (current) killGroup(current.pid);
    process.exit(130);
  });
}

/**
 * Run bench/row.mjs in one runtime, in its own process group (detached), which
 * is killed when the row ends: servers a row started (redis, memcached, uWSGI,
 * nginx) cannot outlive it, even when it crashes or times out. Resolves with
 * the JSON it printed, `{ skipped }`, or `{ error }`.
 */
export function runRow(rt, rowArgs, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(rt.path, [...rt.args, rowFile, ...rowArgs], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr = (stderr + c).slice(-16384); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killGroup(child.pid); }, timeoutMs);
    const finish = (code, signal, spawnError) => {
      clearTimeout(timer);
      if (child.pid) killGroup(child.pid);
      current = null;
      const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      let json = null;
      try { json = line ? JSON.parse(line) : null; } catch { /* reported below */ }
      if (json?.skipped) return resolve({ skipped: json.skipped });
      if (json && json.ok === false) return resolve({ error: json.error ?? 'failed' });
      if (json && (json.ok === true || json.rows)) return resolve({ json });
      if (timedOut) return resolve({ error: `timed out after ${timeoutMs / 1000} s` });
      if (spawnError) return resolve({ error: String(spawnError.message ?? spawnError) });
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      resolve({ error: `exit ${code ?? signal}, no result${tail ? `: ${tail}` : ''}` });
    };
    // At exit, end whatever the row left running, so no grandchild holds the output pipes open.
    child.once('exit', () => killGroup(child.pid));
    child.once('error', (e) => finish(null, null, e));
    child.once('close', (code, signal) => finish(code, signal));
  });
}

