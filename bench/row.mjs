// Measures one benchmark row in the process that runs this file.
//
//   <runtime> bench/row.mjs --list
//       prints the table of rows as JSON (the orchestrator reads it).
//   <runtime> bench/row.mjs <suite>/<case>/<subject> [--quick]
//       warms up, takes samples, prints one JSON line.
//
// The table is `CASES` of bench/cases.mjs plus the default export of every
// bench/cases/*.mjs (sorted by file name). Plain ESM that runs unchanged on
// Node, Deno and Bun. The orchestrator (bench/run.mjs) starts a fresh process
// per row, so one subject's JIT feedback (inlining, call-site shapes) never
// leaks into another's numbers.
//
// Row shape (bench/README.md has the long form):
//   { suite, case, threads, async?, unit?: 'op' | 'req', extends?: true,
//     subjects: { [name]: setup | { setup, threads?, native?, async? } } }
// `setup()` returns the op to time (sync, or returning a promise), or
// `{ op, opsPerCall?, close? }`, or `{ samples(profile) -> ns per op[], close? }`
// for a subject that times itself (wrk, uWSGI's Python loop). It throws a
// `Skip` (bench/lib/proc.mjs) when a program it needs is absent.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { CASES } from './cases.mjs';

const CASES_DIR = new URL('./cases/', import.meta.url);

/** Human-readable place of an entry, for load errors. */
const where = (file, i) => `${file} entry ${i}`;

function normalizeSubject(name, value, origin) {
  const s = typeof value === 'function' ? { setup: value } : value;
  if (!s || typeof s.setup !== 'function') throw new Error(`${origin}: subject '${name}' must be a setup function or { setup, ... }`);
  if (s.threads !== undefined && !(Number.isInteger(s.threads) && s.threads > 0)) throw new Error(`${origin}: subject '${name}': threads must be a positive integer`);
  return { setup: s.setup, threads: s.threads, native: s.native === true, async: s.async === true };
}

function normalizeEntry(e, origin) {
  if (!e || typeof e !== 'object') throw new Error(`${origin}: not an object`);
  for (const k of ['suite', 'case']) if (typeof e[k] !== 'string' || !e[k]) throw new Error(`${origin}: '${k}' must be a non-empty string`);
  if ((!e.extends || e.threads !== undefined) && !(Number.isInteger(e.threads) && e.threads > 0)) throw new Error(`${origin}: threads must be a positive integer`);
  if (e.unit !== undefined && e.unit !== 'op' && e.unit !== 'req') throw new Error(`${origin}: unit must be 'op' or 'req'`);
  if (!e.subjects || typeof e.subjects !== 'object' || !Object.keys(e.subjects).length) throw new Error(`${origin}: subjects must name at least one subject`);
  const subjects = {};
  for (const [name, v] of Object.entries(e.subjects)) {
    subjects[name] = normalizeSubject(name, v, origin);
  }
  return { suite: e.suite, case: e.case, threads: e.threads, async: e.async === true, unit: e.unit ?? 'op', extends: e.extends === true, subjects, origin };
}

/**
 * Every case: bench/cases.mjs first, then bench/cases/*.mjs in name order. A
 * case is identified by suite, case name and thread count, so a 2-thread
 * variant of a 1-thread case is its own entry. An entry with `extends: true`
 * adds its subjects to the case of the same suite and name defined elsewhere
 * (peers kept apart from the rows they join): the one with its `threads` if it
 * gives one, else the first defined.
 */
export async function loadCases() {
  const sources = [{ file: 'bench/cases.mjs', entries: CASES }];
  const files = readdirSync(fileURLToPath(CASES_DIR)).filter((f) => f.endsWith('.mjs')).sort();
  for (const f of files) {
    const mod = await import(new URL(f, CASES_DIR).href);
    if (!Array.isArray(mod.default)) throw new Error(`bench/cases/${f}: must \`export default [ ...rows ]\``);
    sources.push({ file: `bench/cases/${f}`, entries: mod.default });
  }
  const all = sources.flatMap(({ file, entries }) => entries.map((e, i) => normalizeEntry(e, where(file, i))));
  const table = [];
  const same = (a, b) => a.suite === b.suite && a.case === b.case;
  for (const e of all.filter((x) => !x.extends)) {
    const dup = table.find((t) => same(t, e) && t.threads === e.threads);
    if (dup) throw new Error(`${e.origin}: case ${e.suite}/${e.case} with ${e.threads} thread(s) is already defined by ${dup.origin} (use extends: true to add subjects)`);
    table.push({ ...e, subjects: { ...e.subjects } });
  }
  for (const e of all.filter((x) => x.extends)) {
    const target = table.find((t) => same(t, e) && (e.threads === undefined || t.threads === e.threads));
    if (!target) throw new Error(`${e.origin}: extends ${e.suite}/${e.case}${e.threads ? ` (${e.threads} threads)` : ''}, which no file defines`);
    for (const [name, s] of Object.entries(e.subjects)) {
      if (target.subjects[name]) throw new Error(`${e.origin}: subject '${name}' already exists in ${e.suite}/${e.case}`);
      target.subjects[name] = s;
    }
  }
  return table;
}

/**
 * Every row of the table: what the orchestrator spawns, by `id`:
 * suite/case/subject, with `@N` appended for a row of N > 1 threads.
 */
export function listRows(table) {
  const rows = table.flatMap((c, entry) => Object.entries(c.subjects).map(([subject, s]) => {
    const threads = s.threads ?? c.threads;
    return {
      id: `${c.suite}/${c.case}/${subject}${threads > 1 ? `@${threads}` : ''}`, suite: c.suite, case: c.case, subject,
      threads, unit: c.unit, native: s.native, entry,
    };
  }));
  const seen = new Set();
  for (const r of rows) {
    if (seen.has(r.id)) throw new Error(`two rows have the id '${r.id}' (a '/' in a suite or case name makes them ambiguous)`);
    seen.add(r.id);
  }
  return rows;
}

function runtimeInfo() {
  if (typeof Deno !== 'undefined') return { name: 'deno', version: Deno.version.deno };
  if (typeof Bun !== 'undefined') return { name: 'bun', version: Bun.version };
  return { name: 'node', version: process.versions.node };
}

function argv() {
  if (typeof Deno !== 'undefined') return Deno.args;
  return process.argv.slice(2);
}

function exit(code) {
  if (typeof Deno !== 'undefined') Deno.exit(code);
  process.exit(code);
}

/**
 * Timing profiles (ms, except the wrk fields in s). `quick` is a smoke test:
 * it proves each row runs and yields a number, in about a minute for the whole
 * table; its numbers are noisy and not for comparison.
 */
export const PROFILES = {
  full: { warmupTime: 500, time: 3000, minSamples: 64, batchMs: 0.5, wrkWarmupSeconds: 2, wrkSeconds: 3, wrkRuns: 5 },
  quick: { warmupTime: 20, time: 60, minSamples: 5, batchMs: 0.1, wrkWarmupSeconds: 0, wrkSeconds: 1, wrkRuns: 2 },
};

/** The last op's result, kept in module state so every call's result escapes. */
let last;

/** Time `n` calls of `op`, in ms. The same closure warms up, calibrates and measures. */
function batchRunner(op) {
  return (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) last = op();
    return performance.now() - t0;
  };
}

/**
 * Operations per sample. One op is often a few nanoseconds, far below what a
 * single timestamp pair can resolve, so each sample times a batch of ops and
 * records the batch's mean. The batch runs hot for `warmupTime` first (a cold
 * first call would make the batch far too small), then doubles until its
 * fastest of three timings takes at least `batchMs`.
 */
function calibrateBatch(runBatch, { warmupTime, batchMs }) {
  const until = performance.now() + warmupTime;
  while (performance.now() < until) runBatch(1000);
  let n = 16;
  for (;;) {
    const dt = Math.min(runBatch(n), runBatch(n), runBatch(n));
    if (dt >= batchMs || n >= 1 << 26) return n;
    n *= dt > 0 ? Math.min(8, Math.max(2, Math.ceil(batchMs / dt))) : 8;
  }
}

/** Median and relative median absolute deviation of per-op times (ns). */
function summarize(nsPerOp) {
  const xs = nsPerOp.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  if (!xs.length) throw new Error('no valid sample (every sample was zero, negative or not a number)');
  const median = xs[xs.length >> 1];
  const dev = xs.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
  return { ns_per_op: median, ops_per_s: 1e9 / median, samples: xs.length, spread: dev[dev.length >> 1] / median };
}

const lastShown = () => (last instanceof Uint8Array ? last.length : typeof last === 'bigint' ? String(last) : typeof last === 'object' ? typeof last : last ?? null);

/**
 * Rows whose op is asynchronous (a round trip to another thread, a network
 * request): batches of awaited ops, timed with the same clock, median and MAD
 * over the batches.
 */
async function measureAsync(op, profile) {
  const runBatch = async (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) last = await op();
    return performance.now() - t0;
  };
  const until = performance.now() + profile.warmupTime;
  do await runBatch(8); while (performance.now() < until);
  let batch = 4;
  while ((await runBatch(batch)) < profile.batchMs * 4 && batch < 1 << 20) batch *= 2;
  const perOp = [];
  const end = performance.now() + profile.time;
  while (perOp.length < profile.minSamples || performance.now() < end) perOp.push(((await runBatch(batch)) / batch) * 1e6);
  return { ...summarize(perOp), batch, last: lastShown() };
}

/** Synchronous ops: calibrated batches, sampled by tinybench. */
function measureSync(id, op, profile) {
  const runBatch = batchRunner(op);
  const batch = calibrateBatch(runBatch, profile);
  const bench = new Bench({
    time: profile.time,
    warmupTime: profile.warmupTime / 2, // the op is already hot from calibrating
    iterations: profile.minSamples,
    warmupIterations: 8,
    throws: true,
  });
  bench.add(id, () => {
    const elapsed = runBatch(batch);
    return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
  });
  const [task] = bench.runSync();
  const r = task.result;
  if (r.state !== 'completed') throw r.error ?? new Error(`task ended in state ${r.state}`);
  const lat = r.latency; // ms per op, one value per batch
  const median = lat.p50;
  if (!(median > 0)) throw new Error(`median time per op is ${median} ms: the op was optimised away or the clock is too coarse`);
  return {
    ns_per_op: median * 1e6,
    ops_per_s: 1000 / median,
    samples: lat.samplesCount,
    spread: lat.mad / median, // relative median absolute deviation of the per-batch means
    batch,
    last: lastShown(), // printed: the results are used
  };
}

async function measure(entry, row, profile) {
  const subject = entry.subjects[row.subject];
  const made = await subject.setup();
  const parts = typeof made === 'function' ? { op: made } : made ?? {};
  const { op, samples, close } = parts;
  const opsPerCall = parts.opsPerCall ?? 1;
  if (typeof op !== 'function' && typeof samples !== 'function') throw new Error('setup() must return an op function, { op }, or { samples }');
  if (!(Number.isInteger(opsPerCall) && opsPerCall > 0)) throw new Error('opsPerCall must be a positive integer');
  try {
    let r;
    if (samples) {
      r = summarize(await samples(profile));
    } else if (entry.async || subject.async) {
      r = await measureAsync(op, profile);
    } else {
      // An op that returns a promise is measured awaited, whatever the entry says.
      const first = op();
      const isAsync = first !== null && typeof first === 'object' && typeof first.then === 'function';
      if (isAsync) await first;
      r = isAsync ? await measureAsync(op, profile) : measureSync(row.id, op, profile);
    }
    if (opsPerCall !== 1) {
      r.ns_per_op /= opsPerCall;
      r.ops_per_s *= opsPerCall;
      r.ops_per_call = opsPerCall;
    }
    return r;
  } finally {
    await close?.();
  }
}

async function main() {
  const args = argv();
  const rt = runtimeInfo();
  const out = { runtime: rt.name, version: rt.version };
  let table;
  try {
    table = await loadCases();
  } catch (e) {
    console.log(JSON.stringify({ ...out, ok: false, error: `loading the cases: ${e?.stack ?? e}` }));
    exit(1);
  }
  let rows;
  try {
    rows = listRows(table);
  } catch (e) {
    console.log(JSON.stringify({ ...out, ok: false, error: String(e?.message ?? e) }));
    exit(1);
  }
  if (args.includes('--list')) {
    console.log(JSON.stringify({ ...out, rows }));
    return;
  }
  const id = args.find((a) => !a.startsWith('--'));
  const row = rows.find((r) => r.id === id);
  if (!row) {
    console.log(JSON.stringify({ ...out, id, ok: false, error: `unknown case '${id}'` }));
    exit(2);
  }
  const entry = table[row.entry];
  try {
    const profile = args.includes('--quick') ? PROFILES.quick : PROFILES.full;
    console.log(JSON.stringify({ ...out, id, ok: true, ...(await measure(entry, row, profile)) }));
  } catch (e) {
    if (e?.benchSkip) {
      console.log(JSON.stringify({ ...out, id, ok: false, skipped: e.message }));
      exit(0);
    }
    console.log(JSON.stringify({ ...out, id, ok: false, error: String(e?.stack ?? e) }));
    exit(1);
  }
}

await main();
// Threads a row started (a master's workers, a postMessage peer) would keep the process alive.
exit(0);
