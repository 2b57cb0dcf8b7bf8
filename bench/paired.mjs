// A ratio that holds on a shared machine: two rows of the table measured in
// alternation, each in a fresh process, and the median of the per-round ratios.
//
//   node bench/paired.mjs [--runtime node,node24,deno,bun] [--rounds 5] [--json] <suite/case> <subject A> <subject B> [<suite/case> <A> <B>]...
//
// Each round runs row A and row B back to back (A first in odd rounds, B first
// in even ones); the round's ratio is B's time per op over A's, i.e. A's
// throughput over B's, as bench/report.mjs states ratios. Load that changes
// between rounds moves both rows of a round together, so the median ratio
// stays put where a one-shot run's ratio would not. A subject of a row with
// N > 1 threads is named with its `@N` suffix, as `--list` shows it.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { RUNTIMES, runRow } from './lib/rows.mjs';

function usage(error) {
  const text = 'usage: node bench/paired.mjs [--runtime r,...] [--rounds N] [--json] <suite/case> <subject A> <subject B> [...]';
  if (error) { console.error(`paired: ${error}\n${text}`); process.exit(2); }
  console.log(text);
  process.exit(0);
}

const args = process.argv.slice(2);
const opts = { runtimes: [], rounds: 5, json: false, triples: [] };
const rest = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--runtime') opts.runtimes.push(...(args[++i] ?? usage('--runtime needs a value')).split(',').filter(Boolean));
  else if (a === '--rounds') opts.rounds = Number(args[++i]);
  else if (a === '--json') opts.json = true;
  else if (a === '--help' || a === '-h') usage();
  else rest.push(a);
}
if (!(Number.isInteger(opts.rounds) && opts.rounds > 0)) usage('--rounds must be a positive integer');
if (rest.length === 0 || rest.length % 3 !== 0) usage('give one or more triples: <suite/case> <subject A> <subject B>');
for (let i = 0; i < rest.length; i += 3) opts.triples.push({ kase: rest[i], a: rest[i + 1], b: rest[i + 2] });
for (const r of opts.runtimes) if (!RUNTIMES.some((rt) => rt.key === r)) usage(`unknown runtime '${r}'`);

const median = (xs) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

const results = [];
for (const rt of RUNTIMES) {
  if (opts.runtimes.length && !opts.runtimes.includes(rt.key)) continue;
  const path = rt.exe();
  if (!path || !existsSync(path)) { console.error(`paired: ${rt.key}: binary not found`); continue; }
  for (const { kase, a, b } of opts.triples) {
    const ids = { a: `${kase}/${a}`, b: `${kase}/${b}` };
    const ns = { a: [], b: [] };
    const ratios = [];
    const loads = [];
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
      const got = {};
      loads.push(os.loadavg()[0]);
      for (const which of order) {
        const r = await runRow({ ...rt, path }, [ids[which]], 180_000);
        if (r.error || r.skipped) { console.error(`paired: ${rt.key} ${ids[which]}: ${r.error ?? r.skipped}`); process.exit(1); }
        got[which] = r.json.ns_per_op;
        ns[which].push(r.json.ns_per_op);
      }
      ratios.push(got.b / got.a);
    }
    const row = {
      runtime: rt.key, case: kase, a, b, rounds: opts.rounds,
      a_ns: median(ns.a), b_ns: median(ns.b), ratio: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios),
      load: median(loads),
    };
    results.push(row);
    if (!opts.json) {
      console.log(`${rt.key.padEnd(7)} ${kase} | ${a}: ${fmt(row.a_ns)} ns | ${b}: ${fmt(row.b_ns)} ns | ratio ${fmt(row.ratio)}× (${fmt(row.min)}–${fmt(row.max)}, ${opts.rounds} rounds, load ${row.load.toFixed(1)})`);
    }
  }
}
if (opts.json) console.log(JSON.stringify(results));
// The row runner's signal handlers keep nothing alive; leave explicitly all the same.
process.exit(0);
