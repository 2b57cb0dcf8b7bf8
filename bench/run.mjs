// Benchmark orchestrator: every row of bench/cases.mjs and bench/cases/*.mjs,
// on every runtime found, each in a fresh process; then JSON results, an SVG
// chart and a Markdown report with uwsgi-wasm's ratio to each peer measured in
// the same run.
//
//   node bench/run.mjs [--quick] [--runtime node|node24|deno|bun]... [--suite name]... [--out dir] [--readme]
//
// --runtime and --suite may repeat or take a comma-separated list. A full,
// unfiltered run writes bench/results/ and refreshes the README's Performance
// block; --quick (the CI smoke test) writes bench/results/quick/ only and fails
// when any row errors. --readme refreshes the README from any run (its block
// then says which kind of run it shows).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { delimiter, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartSvg } from './chart.mjs';
import { NATIVE, fmtRate, fmtTime, markdown, readmeBlock } from './report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
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

/** Runtimes in report order: how to start each, or why it cannot be. */
const RUNTIMES = [
  { key: 'node', describe: 'machine node (first on PATH)', exe: machineNode, args: [] },
  { key: 'node24', describe: 'LTS node from node_modules', exe: () => bin(`node-${process.platform}-${process.arch}`, 'bin', 'node'), args: [] },
  { key: 'deno', describe: 'deno from node_modules', exe: () => bin('.bin', 'deno'), args: ['run', '-A', '--no-lock'] },
  { key: 'bun', describe: 'bun from node_modules', exe: () => bin('.bin', 'bun'), args: [] },
];

function parseArgs(argv) {
  const opts = { quick: false, runtimes: [], suites: [], out: null, readme: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--runtime') opts.runtimes.push(...value().split(',').filter(Boolean));
    else if (a === '--suite') opts.suites.push(...value().split(',').filter(Boolean));
    else if (a === '--out') opts.out = value();
    else if (a === '--readme') opts.readme = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument '${a}'`);
  }
  for (const r of opts.runtimes) {
    if (!RUNTIMES.some((rt) => rt.key === r)) usage(`--runtime: unknown runtime '${r}' (one of ${RUNTIMES.map((rt) => rt.key).join(', ')})`);
  }
  return opts;
}

function usage(error) {
  const text = 'usage: node bench/run.mjs [--quick] [--runtime node|node24|deno|bun]... [--suite name]... [--out dir] [--readme]';
  if (error) { console.error(`bench: ${error}\n${text}`); process.exit(2); }
  console.log(text);
  process.exit(0);
}

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
function runRow(rt, rowArgs, timeoutMs) {
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

/** Find each runtime's binary and ask it for its version and the rows (a smoke test of loading every case file). */
async function probeRuntimes(wanted) {
  const ready = [];
  const skipped = {};
  for (const rt of RUNTIMES) {
    if (wanted.length && !wanted.includes(rt.key)) continue;
    const path = rt.exe();
    if (!path || !existsSync(path)) { skipped[rt.key] = `${rt.describe}: binary not found${path ? ` (${path})` : ''}`; continue; }
    const same = ready.find((o) => realpathSync(o.path) === realpathSync(path));
    if (same) { skipped[rt.key] = `same binary as ${same.key}`; continue; }
    const probe = await runRow({ ...rt, path }, ['--list'], 60_000);
    if (probe.error) { skipped[rt.key] = `cannot run bench/row.mjs: ${probe.error.split('\n')[0]}`; continue; }
    ready.push({ ...rt, path, version: probe.json.version, rows: probe.json.rows });
  }
  return { ready, skipped };
}

/** `--version` of each program a peer uses, or absent. */
function toolVersions() {
  const probe = (cmd, args, re) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    const m = re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    return m ? m[1] : null;
  };
  const tools = {
    uwsgi: probe('uwsgi', ['--version'], /^(\S+)/),
    'redis-server': probe('redis-server', ['--version'], /v=(\S+)/),
    memcached: probe('memcached', ['-V'], /memcached (\S+)/),
    nginx: probe(existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx', ['-v'], /nginx\/(\S+)/),
    wrk: probe('wrk', ['-v'], /wrk (\S+)/),
  };
  return Object.fromEntries(Object.entries(tools).filter(([, v]) => v));
}

function machineInfo(runtimes) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model?.trim() ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    runtimes: Object.fromEntries(runtimes.map((rt) => [rt.key, rt.version])),
    tools: toolVersions(),
    loadavg: os.loadavg(),
    date: new Date().toISOString(),
  };
}

function writeAtomic(path, text) {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const README_START = '<!-- bench:start (generated by `npm run bench`; edits inside are overwritten) -->';
const README_END = '<!-- bench:end -->';

/** Replace the README's generated Performance block, if the markers are there. */
function updateReadme(block) {
  const path = join(root, 'README.md');
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(README_START);
  const b = text.indexOf(README_END);
  if (a < 0 || b < a) { console.error('bench: README.md has no bench markers; not updated'); return false; }
  writeAtomic(path, `${text.slice(0, a + README_START.length)}\n${block}${text.slice(b)}`);
  return true;
}

function progress(rt, p, r) {
  const label = `[${rt}] ${p.id}`;
  if (r.skipped) console.error(`${label}: skipped: ${r.skipped}`);
  else if (r.error) console.error(`${label}: ERROR ${r.error.split('\n')[0]}`);
  else {
    const v = p.unit === 'req' ? `${fmtRate(r.ops_per_s)} req/s` : `${fmtTime(r.ns_per_op)}/op`;
    console.error(`${label}: ${v} (${r.samples} samples, ±${(r.spread * 100).toFixed(1)}%)`);
  }
}

async function main() {
  const started = performance.now();
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    console.error('bench: dist/index.js is missing; build first (node scripts/build.mjs)');
    process.exit(1);
  }
  const { ready, skipped } = await probeRuntimes(opts.runtimes);
  for (const [key, why] of Object.entries(skipped)) console.error(`bench: ${key} skipped: ${why}`);
  if (!ready.length) { console.error('bench: no runtime to run on'); process.exit(1); }

  // The table of rows, as the first runtime sees it (every runtime loads the same files).
  const planned = ready[0].rows.filter((r) => !opts.suites.length || opts.suites.includes(r.suite));
  if (!planned.length) { console.error(`bench: no case in suite(s) ${opts.suites.join(', ')}`); process.exit(1); }
  const machine = machineInfo(ready);

  const timeoutMs = opts.quick ? 60_000 : 300_000;
  const rows = [];
  const record = (p, runtime, r, driver) => {
    const base = { suite: p.suite, case: p.case, subject: p.subject, runtime, threads: p.threads, unit: p.unit, ...(driver ? { driver } : {}) };
    if (r.skipped) rows.push({ ...base, ops_per_s: null, ns_per_op: null, samples: 0, spread: null, skipped: r.skipped });
    else if (r.error) rows.push({ ...base, ops_per_s: null, ns_per_op: null, samples: 0, spread: null, error: r.error });
    else {
      const { ops_per_s, ns_per_op, samples, spread } = r.json;
      rows.push({ ...base, ops_per_s, ns_per_op, samples, spread });
    }
  };
  const quick = opts.quick ? ['--quick'] : [];
  // Native rows (real uWSGI) do not depend on the JS runtime: measured once, driven by the first runtime.
  for (const p of planned.filter((x) => x.native)) {
    const r = await runRow(ready[0], [p.id, ...quick], timeoutMs);
    progress(NATIVE, p, r.json ?? r);
    record(p, NATIVE, r, ready[0].key);
  }
  for (const rt of ready) {
    for (const p of planned.filter((x) => !x.native)) {
      const r = await runRow(rt, [p.id, ...quick], timeoutMs);
      progress(rt.key, p, r.json ?? r);
      record(p, rt.key, r);
    }
  }

  // Table order (the cases' order, runtimes in column order), whatever order they ran in.
  const order = (r) => planned.findIndex((p) => p.suite === r.suite && p.case === r.case && p.subject === r.subject && p.threads === r.threads) * 16 + (r.runtime === NATIVE ? 0 : 1 + ready.findIndex((rt) => rt.key === r.runtime));
  rows.sort((a, b) => order(a) - order(b));
  const result = { machine, quick: opts.quick, skipped, seconds: Math.round((performance.now() - started) / 1000), rows };
  const filtered = opts.runtimes.length > 0 || opts.suites.length > 0;
  const outDir = opts.out ? resolve(opts.out) : join(root, 'bench', 'results', ...(opts.quick ? ['quick'] : []));
  mkdirSync(outDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeAtomic(join(outDir, 'latest.json'), json);
  writeAtomic(join(outDir, `${machine.date.slice(0, 10)}${opts.quick ? '-quick' : ''}.json`), json);
  writeAtomic(join(outDir, 'latest.svg'), chartSvg(result, ready));
  const md = markdown(result, ready, { chart: 'latest.svg' });
  writeAtomic(join(outDir, 'latest.md'), md);
  process.stdout.write(md);
  console.error(`bench: ${rows.length} rows in ${result.seconds} s; results in ${relative(process.cwd(), outDir) || '.'}/latest.{json,md,svg}`);

  // Only a complete full run speaks for the project in the README, unless asked.
  if (opts.readme || (!opts.quick && !filtered && !opts.out)) {
    const chartPath = relative(root, join(outDir, 'latest.svg')).split('\\').join('/');
    if (updateReadme(readmeBlock(result, ready, chartPath))) console.error('bench: README.md Performance block updated');
  }

  const failed = rows.filter((r) => r.error);
  if (opts.quick) {
    // The CI guard: every row must run and give a number (skips need a missing program).
    const bad = rows.filter((r) => !r.skipped && !(r.error == null && r.ops_per_s > 0 && Number.isFinite(r.ns_per_op)));
    if (bad.length) {
      console.error(`bench: ${bad.length} row(s) gave no number: ${bad.map((r) => `${r.runtime} ${r.suite}/${r.case}/${r.subject}`).join('; ')}`);
      process.exitCode = 1;
    }
  } else {
    // A full run fails only when some row failed everywhere it ran: one runtime's failure is a finding.
    const everywhere = planned.filter((p) => {
      const mine = rows.filter((r) => r.suite === p.suite && r.case === p.case && r.subject === p.subject && r.threads === p.threads && !r.skipped);
      return mine.length > 0 && mine.every((r) => r.error);
    });
    if (everywhere.length) {
      console.error(`bench: failed on every runtime: ${everywhere.map((p) => p.id).join(', ')}`);
      process.exitCode = 1;
    } else if (failed.length) {
      console.error(`bench: ${failed.length} row(s) failed on some runtime (listed in the report)`);
    }
  }
}

await main();
