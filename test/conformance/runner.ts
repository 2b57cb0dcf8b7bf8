/**
 * `npm run conformance -- [dir]`: run every vector file of `dir` (default
 * ../shared/conformance) through createEngine and the public API, one fresh
 * engine per case, as the oracle ran one fresh uWSGI per case. Prints failures,
 * the deviations applied, areas not built yet, then `N passed, M failed`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UwsgiError, createEngine, type Engine, type Uwsgi, type Options } from '../../ts/index.ts';
import { UWSGI_MODULE_NAMES } from './api-names.ts';
import { PythonError, type Vec, pythonTypeName, sameError, sameValue, show, toJs } from './adapter.ts';
import { DEVIATIONS, type Observed } from './deviations.ts';

interface Op { fn: string; args: Vec[] }
interface Case { name: string; ops: Op[]; results: Vec[] }
interface VectorFile { config: Record<string, Vec>; cases: Case[] }

/** A name the API will have but does not have yet. */
class NotBuilt extends Error { constructor(readonly what: string) { super(`not built: ${what}`); } }

const HELPERS = new Set(['context', 'sleep', 'attr', 'hasattr', 'typeof', 'len', 'keys', 'sorted', 'getitem', 'compare', 'kwcall']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The vector's uWSGI config as our options: names are uWSGI's already. */
function optionsOf(config: Record<string, Vec>): Options {
  const out: Options = {};
  for (const [k, v] of Object.entries(config)) out[k] = Array.isArray(v) ? (v as Array<string | number>) : (v as string | number | boolean);
  return out;
}

function lookup(api: Uwsgi, fn: string): { self: object; value: unknown } {
  const self: object = fn.startsWith('sharedarea_') ? api.sharedareas : api;
  const value = (self as Record<string, unknown>)[fn];
  if (value === undefined) {
    if (UWSGI_MODULE_NAMES.has(fn)) throw new NotBuilt(fn);
    throw new PythonError('AttributeError', `module 'uwsgi' has no attribute '${fn}'`);
  }
  return { self, value };
}

/**
 * Time inside a case. The oracle really slept and uWSGI's sweeper thread ran
 * every `cache-expire-freq` seconds; here `sleep` advances the engine's fake
 * clock instead and runs a sweep at each tick the sweeper would have had, so a
 * case takes no wall time and never lands on an expiry boundary by chance.
 */
class FakeTime {
  now: number;
  #nextSweep: number;
  constructor(readonly engine: Engine, readonly sweepEveryMs: number) {
    this.now = Date.now();
    this.#nextSweep = this.now + sweepEveryMs;
    engine.setClock(() => this.now);
  }
  advance(ms: number): void {
    const target = this.now + ms;
    while (this.#nextSweep <= target) {
      this.now = this.#nextSweep;
      this.engine.sweepCaches();
      this.#nextSweep += this.sweepEveryMs;
    }
    this.now = target;
  }
}

class CaseRun {
  current: Uwsgi;
  #inRequest = false;
  #pinged = false;
  /** The length of each request's body, in order (see enterRequest). */
  requestBodies: number[] = [];
  constructor(readonly master: Uwsgi, readonly worker: Uwsgi, readonly time: FakeTime) { this.current = worker; }

  /**
   * The oracle's driver sent GET /ping (one completed request) before the
   * case, then ran request ops inside a new HTTP request each: replay that
   * through the accounting entry point, so total_requests, request_id and
   * per-request logvars see what uWSGI saw.
   */
  enterRequest(): void {
    const w = this.worker as Uwsgi & { request_begin?: (o?: { cl?: number }) => unknown; request_end?: () => void };
    if (typeof w.request_begin !== 'function') return;
    this.leaveRequest();
    if (!this.#pinged) { w.request_begin(); w.request_end!(); this.#pinged = true; }
    // The oracle POSTed each request's ops as Python's json.dumps: that body's length is what cl() saw.
    w.request_begin({ cl: this.requestBodies.shift() ?? 0 });
    this.#inRequest = true;
  }

  leaveRequest(): void {
    if (!this.#inRequest) return;
    (this.worker as Uwsgi & { request_end(): void }).request_end();
    this.#inRequest = false;
  }

  async eval(op: Op): Promise<unknown> {
    const a = op.args;
    const api = () => this.current;
    switch (op.fn) {
      case 'context':
        this.current = a[0] === 'import' ? this.master : this.worker;
        if (a[0] !== 'import') this.enterRequest();
        if (typeof a[1] === 'number') { this.time.advance(a[1] * 1000); await sleep(0); }
        return null;
      case 'sleep': this.time.advance((a[0] as number) * 1000); await sleep(0); return null;
      case 'attr': return lookup(this.current, a[0] as string).value;
      case 'hasattr': {
        try { lookup(this.current, a[0] as string); return true; } catch (e) { if (e instanceof NotBuilt) throw e; return false; }
      }
      case 'typeof': {
        try { return pythonTypeName(await this.eval(a[0] as unknown as Op)); } catch (e) { if (e instanceof NotBuilt) throw e; return e; }
      }
      case 'len': {
        const v = await this.eval(a[0] as unknown as Op) as { length?: number };
        // Python's len(None) is a TypeError; the vectors record it.
        if (v === null || v === undefined) throw new UwsgiError('ERR_ARG_TYPE', `object of type 'NoneType' has no len()`);
        return typeof v === 'object' && v !== null && v.length === undefined ? Object.keys(v).length : v.length;
      }
      case 'keys': return Object.keys(await this.eval(a[0] as unknown as Op) as object);
      case 'sorted': {
        const v = [...(await this.eval(a[0] as unknown as Op) as unknown[])];
        return v.sort((x, y) => (show(x) < show(y) ? -1 : show(x) > show(y) ? 1 : 0));
      }
      case 'getitem': {
        const v = await this.eval(a[0] as unknown as Op) as Record<string, unknown>;
        const k = String(toJs(a[1], api));
        // Python's d[k] on a missing key is a KeyError (undefined is no answer).
        if (v === null || typeof v !== 'object' || !(k in v)) throw new PythonError('KeyError', `'${k}'`);
        return v[k];
      }
      case 'compare': {
        const v = await this.eval(a[0] as unknown as Op);
        const w = toJs(a[2], api);
        const [x, y] = [Number(v), Number(w)];
        switch (a[1]) {
          case '<': return x < y; case '<=': return x <= y; case '>': return x > y;
          case '>=': return x >= y; case '==': return x === y; case '!=': return x !== y;
        }
        throw new Error(`conformance: unknown relation ${String(a[1])}`);
      }
      case 'kwcall': {
        // Keyword arguments become a trailing options object.
        const { self, value } = lookup(this.current, a[0] as string);
        const pos = (a[1] as Vec[]).map((x) => toJs(x, api));
        const kw = toJs(a[2], api) as Record<string, unknown>;
        return (value as (...x: unknown[]) => unknown).apply(self, Object.keys(kw).length ? [...pos, kw] : pos);
      }
      default: {
        const { self, value } = lookup(this.current, op.fn);
        if (typeof value !== 'function') throw new UwsgiError('ERR_ARG_TYPE', `'${op.fn}' is not callable`);
        const r = (value as (...x: unknown[]) => unknown).apply(self, a.map((x) => toJs(x, api)));
        return r instanceof Promise ? await r : r;
      }
    }
  }
}

/** Python's json.dumps (default separators, ensure_ascii) of a decoded vector value. */
function pyDumps(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(', ')}]`;
  return `{${Object.entries(v as object).map(([k, x]) => `${pyDumps(k)}: ${pyDumps(x)}`).join(', ')}}`;
}

/** The body length of every request the oracle's driver sent for a case (its ops split at context markers). */
function requestBodyLengths(ops: Op[]): number[] {
  const bodies: Op[][] = [];
  let cur: Op[] | null | undefined; // null: the import segment, which is no request
  for (const op of ops) {
    if (op.fn === 'context') { cur = op.args[0] === 'import' ? null : []; if (cur) bodies.push(cur); continue; }
    if (cur === null) continue;
    if (cur === undefined) { cur = []; bodies.push(cur); }
    cur.push(op);
  }
  return bodies.map((b) => new TextEncoder().encode(pyDumps(b)).length);
}

interface Tally { passed: number; failed: number; skipped: number }

async function runFile(path: string, tally: Tally, deviationsUsed: Map<string, string[]>, notBuilt: Map<string, Set<string>>): Promise<void> {
  const area = basename(path, '.json');
  const data = JSON.parse(readFileSync(path, 'utf8')) as VectorFile & { format?: unknown };
  if (!Array.isArray(data.cases) || data.format !== undefined) {
    const n = Array.isArray(data.cases) ? data.cases.length : 0;
    tally.skipped += n;
    notBuilt.set(`${area} (wire format: replayed by the protocol suite)`, new Set());
    return;
  }
  for (const c of data.cases) {
    const engine = createEngine(optionsOf(data.config));
    const time = new FakeTime(engine, engine.shared.config.cacheExpireFreq * 1000);
    const run = new CaseRun(engine.uwsgi, engine.attach('worker', 1), time);
    run.requestBodies = requestBodyLengths(c.ops);
    if (c.ops[0]?.fn !== 'context') run.enterRequest(); // ops before any context run in the first request
    const failures: string[] = [];
    const applied: string[] = [];
    const earlier: Observed[] = [];
    let skippedFor: string | undefined;
    let crashed = false;
    for (let i = 0; i < c.ops.length; i++) {
      const op = c.ops[i];
      const expected = c.results[i];
      if (crashed || (typeof expected === 'object' && expected !== null && !Array.isArray(expected) && typeof expected.skipped === 'string')) continue;
      let actual: unknown;
      let threw = false;
      try { actual = await run.eval(op); } catch (e) {
        if (e instanceof NotBuilt) { skippedFor = e.what; break; }
        actual = e; threw = true;
      }
      const isErr = typeof expected === 'object' && expected !== null && !Array.isArray(expected) && typeof expected.error === 'string';
      const verdict = isErr && threw ? sameError(expected as { error: string }, actual)
        : threw || isErr ? { ok: false as const, why: threw ? `threw ${show(actual)}` : `expected ${JSON.stringify(expected)}, got ${show(actual)}` }
        : sameValue(expected, actual);
      if (typeof expected === 'object' && expected !== null && !Array.isArray(expected) && typeof expected.crash === 'string') crashed = true;
      const obs: Observed = { fn: op.fn, args: op.args, jsArgs: HELPERS.has(op.fn) ? [] : op.args.map((x) => toJs(x, () => run.current)), expected, threw, actual, earlier: [...earlier] };
      earlier.push(obs);
      if (verdict.ok) continue;
      const dev = DEVIATIONS.find((d) => d.applies(obs));
      if (dev) { obs.excused = dev.id; applied.push(`${dev.id} (op ${i + 1} ${op.fn})`); continue; }
      failures.push(`  op ${i + 1} ${op.fn}(${op.args.map((x) => JSON.stringify(x)).join(', ')}): ${verdict.why}`);
    }
    run.leaveRequest();
    const label = `${area}: ${c.name}`;
    if (skippedFor !== undefined) {
      tally.skipped++;
      if (!notBuilt.has(area)) notBuilt.set(area, new Set());
      notBuilt.get(area)!.add(skippedFor);
      continue;
    }
    if (failures.length) {
      tally.failed++;
      console.log(`FAIL ${label}\n${failures.join('\n')}`);
    } else {
      tally.passed++;
      for (const d of applied) {
        if (!deviationsUsed.has(label)) deviationsUsed.set(label, []);
        deviationsUsed.get(label)!.push(d);
      }
    }
  }
}

async function main(): Promise<number> {
  const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
  const dirArg = argv.find((a) => !a.startsWith('-'));
  const dir = resolve(dirArg ?? join(process.cwd(), '..', 'shared', 'conformance'));
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
  const deviationsUsed = new Map<string, string[]>();
  const notBuilt = new Map<string, Set<string>>();
  for (const f of files) await runFile(join(dir, f), tally, deviationsUsed, notBuilt);
  if (deviationsUsed.size) {
    console.log('deviations applied (see test/conformance/deviations.ts for the reasons):');
    for (const [label, ds] of deviationsUsed) console.log(`  ${label}: ${ds.join(', ')}`);
  }
  for (const [area, fns] of notBuilt) console.log(`skipped: ${area}${fns.size ? ` (not built yet: ${[...fns].sort().join(', ')})` : ''}`);
  console.log(`conformance: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
  return tally.failed ? 1 : 0;
}

const code = await main();
// RPC servers of the cases' engines still wait for calls: leave with the verdict.
(globalThis as { Deno?: { exit(c: number): never } }).Deno?.exit(code) ?? process.exit(code);
