// Benchmark orchestrator: every row of bench/cases.mjs, on every runtime
// found, each in a fresh process; then JSON results and a Markdown report
// with uwsgi-wasm's ratio to each peer measured in the same run.
//
//   node bench/run.mjs [--quick] [--runtime node|node24|deno|bun]... [--suite name]...
//
// --runtime and --suite may repeat or take a comma-separated list.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const casesFile = join(root, 'bench', 'cases.mjs');
const resultsDir = join(root, 'bench', 'results');
const bin = (...p) => join(root, 'node_modules', ...p);

/** The library's rows (`uwsgi-wasm`, `uwsgi-wasm (variant)`); every other subject of the same case is their peer. */
const SUBJECT = 'uwsgi-wasm';
const isLibrary = (subject) => subject === SUBJECT || subject.startsWith(`${SUBJECT} (`);

/** The first `node` on PATH outside node_modules (npm scripts put node 24 first). */
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
  const opts = { quick: false, runtimes: [], suites: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v.split(',').filter(Boolean);
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--runtime') opts.runtimes.push(...value());
    else if (a === '--suite') opts.suites.push(...value());
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument '${a}'`);
  }
  for (const r of opts.runtimes) {
    if (!RUNTIMES.some((rt) => rt.key === r)) usage(`--runtime: unknown runtime '${r}' (one of ${RUNTIMES.map((rt) => rt.key).join(', ')})`);
  }
  return opts;
}

function usage(error) {
  const text = 'usage: node bench/run.mjs [--quick] [--runtime node|node24|deno|bun]... [--suite name]...';
  if (error) { console.error(`bench: ${error}\n${text}`); process.exit(2); }
  console.log(text);
  process.exit(0);
}

/** Run cases.mjs in one runtime; returns the JSON it printed, or an error text. */
function runCases(rt, caseArgs, timeoutMs) {
  const r = spawnSync(rt.path, [...rt.args, casesFile, ...caseArgs], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 << 20,
  });
  const line = (r.stdout ?? '').trim().split('\n').reverse().find((l) => l.startsWith('{'));
  let json = null;
  try { json = line ? JSON.parse(line) : null; } catch { /* reported below */ }
  if (json && (json.ok !== false || json.error)) return json.ok === false ? { error: json.error } : { json };
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL') return { error: `timed out after ${timeoutMs / 1000} s` };
  if (r.error) return { error: String(r.error.message ?? r.error) };
  const tail = (r.stderr ?? '').trim().split('\n').slice(-5).join(' | ');
  return { error: `exit ${r.status ?? r.signal}, no result${tail ? `: ${tail}` : ''}` };
}

/** Find each runtime's binary and ask it for its version (and the rows, as a smoke test). */
function probeRuntimes(wanted) {
  const ready = [];
  const skipped = {};
  for (const rt of RUNTIMES) {
    if (wanted.length && !wanted.includes(rt.key)) continue;
    const path = rt.exe();
    if (!path || !existsSync(path)) { skipped[rt.key] = `${rt.describe}: binary not found${path ? ` (${path})` : ''}`; continue; }
    const same = ready.find((o) => realpathSync(o.path) === realpathSync(path));
    if (same) { skipped[rt.key] = `same binary as ${same.key}`; continue; }
    const probe = runCases({ ...rt, path }, ['--list'], 60_000);
    if (probe.error) { skipped[rt.key] = `cannot run bench/cases.mjs: ${probe.error}`; continue; }
    ready.push({ ...rt, path, version: probe.json.runtime.version, rows: probe.json.rows });
  }
  return { ready, skipped };
}

function machineInfo(runtimes) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model?.trim() ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    runtimes: Object.fromEntries(runtimes.map((rt) => [rt.key, rt.version])),
    date: new Date().toISOString(),
  };
}

// ---- Markdown --------------------------------------------------------------------------

function fmtNs(ns) {
  if (ns < 10) return ns.toFixed(2);
  if (ns < 100) return ns.toFixed(1);
  return Math.round(ns).toString();
}

function fmtRatio(r) {
  if (r >= 10) return `${Math.round(r)}×`;
  if (r >= 1) return `${r.toFixed(1)}×`;
  return `${r.toFixed(2)}×`;
}

function fmtCell(row, peers) {
  if (row.error) return `error¹`;
  let cell = `${fmtNs(row.ns_per_op)} ns`;
  if (row.spread != null) cell += ` ±${(row.spread * 100).toFixed(1)}%`;
  // Ratio of throughputs: above 1 means uwsgi-wasm does more ops per second.
  const ratios = peers.filter((p) => !p.error).map((p) => `${fmtRatio(p.ns_per_op / row.ns_per_op)} ${p.subject}`);
  return ratios.length ? `${cell} · ${ratios.join(', ')}` : cell;
}

function markdown(result, runtimes, skipped) {
  const { machine, rows } = result;
  const out = [];
  out.push(`# uwsgi-wasm benchmarks${result.quick ? ' (quick)' : ''}`, '');
  out.push(`${machine.date.slice(0, 10)} · ${machine.model} × ${machine.cpus} · ${machine.os}`, '');
  out.push('Cells: median ns per operation ±relative MAD of the samples; on uwsgi-wasm rows, `N× peer` is');
  out.push("uwsgi-wasm's throughput divided by that peer's, same runtime, same run (below 1 = slower).");
  out.push('Numbers compare only within one run on one machine.', '');
  const cols = runtimes.map((rt) => `${rt.key} ${rt.version}`);
  for (const suite of [...new Set(rows.map((r) => r.suite))]) {
    out.push(`## ${suite}`, '');
    out.push(`| case | subject | threads | ${cols.join(' | ')} |`);
    out.push(`|---|---|---:|${cols.map(() => '---:').join('|')}|`);
    const suiteRows = rows.filter((r) => r.suite === suite);
    const lines = [...new Map(suiteRows.map((r) => [`${r.case}\0${r.subject}\0${r.threads}`, r])).values()];
    for (const line of lines) {
      const cells = runtimes.map((rt) => {
        const row = suiteRows.find((r) => r.runtime === rt.key && r.case === line.case && r.subject === line.subject && r.threads === line.threads);
        if (!row) return '–';
        const peers = isLibrary(line.subject)
          ? suiteRows.filter((r) => r.runtime === rt.key && r.case === line.case && r.threads === line.threads && !isLibrary(r.subject))
          : [];
        return fmtCell(row, peers);
      });
      out.push(`| ${line.case} | ${line.subject} | ${line.threads} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  const errors = rows.filter((r) => r.error);
  if (errors.length) {
    out.push('¹ Errors:', '');
    for (const r of errors) out.push(`- ${r.runtime}, ${r.suite}/${r.case}/${r.subject}: ${r.error.split('\n')[0].slice(0, 300)}`);
    out.push('');
  }
  for (const [key, why] of Object.entries(skipped)) out.push(`- ${key} skipped: ${why}`);
  if (Object.keys(skipped).length) out.push('');
  return out.join('\n').replace(/\n*$/, '\n');
}

// ---- main ------------------------------------------------------------------------------

function writeAtomic(path, text) {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    console.error('bench: dist/index.js is missing; build first (node scripts/build.mjs)');
    process.exit(1);
  }
  const { ready, skipped } = probeRuntimes(opts.runtimes);
  for (const [key, why] of Object.entries(skipped)) console.error(`bench: ${key} skipped: ${why}`);
  if (!ready.length) { console.error('bench: no runtime to run on'); process.exit(1); }

  // The table of rows, as the first runtime sees it (every runtime runs the same file).
  const planned = ready[0].rows.filter((r) => !opts.suites.length || opts.suites.includes(r.suite));
  if (!planned.length) { console.error(`bench: no case in suite(s) ${opts.suites.join(', ')}`); process.exit(1); }

  const timeoutMs = opts.quick ? 60_000 : 180_000;
  const rows = [];
  for (const rt of ready) {
    for (const p of planned) {
      const r = runCases(rt, [p.id, ...(opts.quick ? ['--quick'] : [])], timeoutMs);
      const base = { suite: p.suite, case: p.case, subject: p.subject, runtime: rt.key, threads: p.threads };
      if (r.error) {
        rows.push({ ...base, ops_per_s: null, ns_per_op: null, samples: 0, spread: null, error: r.error });
        console.error(`[${rt.key}] ${p.id}: ERROR ${r.error.split('\n')[0]}`);
      } else {
        const { ops_per_s, ns_per_op, samples, spread } = r.json;
        rows.push({ ...base, ops_per_s, ns_per_op, samples, spread });
        console.error(`[${rt.key}] ${p.id}: ${fmtNs(ns_per_op)} ns/op (${samples} samples, ±${(spread * 100).toFixed(1)}%)`);
      }
    }
  }

  const machine = machineInfo(ready);
  const result = { machine, quick: opts.quick, skipped, rows };
  const md = markdown(result, ready, skipped);
  mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeAtomic(join(resultsDir, 'latest.json'), json);
  writeAtomic(join(resultsDir, `${machine.date.slice(0, 10)}.json`), json);
  writeAtomic(join(resultsDir, 'latest.md'), md);
  process.stdout.write(md);

  // Fail only when some row failed everywhere it ran: one runtime's failure is a finding, not a crash.
  const failedEverywhere = planned.filter((p) => rows.filter((r) => r.suite === p.suite && r.case === p.case && r.subject === p.subject).every((r) => r.error));
  if (failedEverywhere.length) {
    console.error(`bench: failed on every runtime: ${failedEverywhere.map((p) => p.id).join(', ')}`);
    process.exitCode = 1;
  }
}

main();
