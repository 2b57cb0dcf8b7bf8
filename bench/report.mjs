// Markdown for a bench result: one table of measurements per suite, then
// uwsgi-wasm's ratio to every peer of the same case measured in the same run
// and runtime. Used by bench/run.mjs for bench/results/latest.md and the
// README's Performance block.

/** The library's rows (`uwsgi-wasm`, `uwsgi-wasm (variant)`); every other subject of the same case is their peer. */
export const SUBJECT = 'uwsgi-wasm';
export const isLibrary = (subject) => subject === SUBJECT || subject.startsWith(`${SUBJECT} (`);

/** The runtime key of rows measured outside any JS runtime (real uWSGI's Python loop, nginx→uWSGI). */
export const NATIVE = 'native';

/** A time per operation, in the unit that keeps 3 significant digits readable. */
export function fmtTime(ns) {
  const three = (x) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toString());
  if (ns < 1e3) return `${three(ns)} ns`;
  if (ns < 1e6) return `${three(ns / 1e3)} µs`;
  return `${three(ns / 1e6)} ms`;
}

/** A rate, grouped by thousands. */
export function fmtRate(perSecond) {
  return Math.round(perSecond).toLocaleString('en-US');
}

export function fmtRatio(r) {
  if (r >= 10) return `${Math.round(r)}×`;
  if (r >= 1) return `${r.toFixed(1)}×`;
  if (r >= 0.01) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(1)}×`;
}

/** The value of one measurement as a cell: time per op (or req/s for request rows) ±spread. */
function fmtValue(row) {
  if (row.skipped) return 'skipped²';
  if (row.error) return 'error¹';
  const spread = row.spread != null ? ` ±${(row.spread * 100).toFixed(row.spread < 0.1 ? 1 : 0)}%` : '';
  return row.unit === 'req' ? `${fmtRate(row.ops_per_s)} req/s${spread}` : `${fmtTime(row.ns_per_op)}${spread}`;
}

const lineKey = (r) => `${r.case}\0${r.subject}\0${r.threads}`;
const ok = (r) => r && !r.error && !r.skipped && r.ops_per_s > 0;

/**
 * The row for (runtime, case, subject, threads): native rows are measured once
 * and stand in every runtime's column.
 */
function cellRow(rows, rt, line) {
  return rows.find((r) => (r.runtime === rt || r.runtime === NATIVE) && lineKey(r) === lineKey(line));
}

/**
 * Markdown tables for `rows` in `runtimes` order (keys); `headers` labels the
 * runtime columns. Returns lines.
 */
export function tables(rows, runtimes, headers) {
  const out = [];
  const nativeNote = rows.some((r) => r.runtime === NATIVE);
  for (const suite of [...new Set(rows.map((r) => r.suite))]) {
    const suiteRows = rows.filter((r) => r.suite === suite);
    const lines = [...new Map(suiteRows.map((r) => [lineKey(r), r])).values()];
    out.push(`### ${suite}`, '');
    out.push(`| case | subject | threads | ${headers.join(' | ')} |`);
    out.push(`|---|---|---:|${headers.map(() => '---:').join('|')}|`);
    for (const line of lines) {
      const native = line.runtime === NATIVE;
      const cells = runtimes.map((rt, i) => {
        const row = cellRow(suiteRows, rt, line);
        if (!row) return '–';
        return native && i > 0 ? '〃' : fmtValue(row);
      });
      const name = isLibrary(line.subject) ? `**${line.subject}**` : line.subject;
      out.push(`| ${line.case} | ${name}${native ? ' ⁿ' : ''} | ${line.threads} | ${cells.join(' | ')} |`);
    }
    out.push('');

    // Ratios: each library row against each peer of its case, per runtime.
    const ratioLines = [];
    for (const lib of lines.filter((l) => isLibrary(l.subject))) {
      // Each peer once: its variant with the library row's thread count if it has one, else its first.
      const peerNames = [...new Set(lines.filter((l) => l.case === lib.case && !isLibrary(l.subject)).map((l) => l.subject))];
      const peers = peerNames.map((name) => {
        const variants = lines.filter((l) => l.case === lib.case && l.subject === name);
        return variants.find((l) => l.threads === lib.threads) ?? variants[0];
      });
      // A library row with more threads is also compared to itself at one thread.
      const single = lines.find((l) => l.case === lib.case && l.subject === lib.subject && l.threads === 1 && lib.threads > 1);
      for (const peer of single ? [single, ...peers] : peers) {
        const cells = runtimes.map((rt) => {
          const a = cellRow(suiteRows, rt, lib);
          const b = cellRow(suiteRows, rt, peer);
          return ok(a) && ok(b) ? fmtRatio(a.ops_per_s / b.ops_per_s) : '–';
        });
        if (cells.every((c) => c === '–')) continue;
        const vs = peer === single ? `${peer.subject}, 1 thread` : `${peer.subject}${peer.threads !== lib.threads ? ` (${peer.threads} thread${peer.threads > 1 ? 's' : ''})` : ''}`;
        ratioLines.push(`| ${lib.case} | ${lib.subject}${lib.threads > 1 && !lib.subject.includes(`${lib.threads} threads`) ? ` (${lib.threads} threads)` : ''} | ${vs} | ${cells.join(' | ')} |`);
      }
    }
    if (ratioLines.length) {
      out.push(`| ${suite}: throughput ratio | uwsgi-wasm | vs | ${headers.join(' | ')} |`);
      out.push(`|---|---|---|${headers.map(() => '---:').join('|')}|`);
      out.push(...ratioLines, '');
    }
  }
  if (nativeNote) out.push('ⁿ measured once per run outside the JS runtimes (real uWSGI and its Python loop); 〃 = the same measurement.', '');
  return out;
}

/** One line naming the machine and the run. */
export function machineLine(machine, quick) {
  const load = machine.loadavg ? ` · load ${machine.loadavg.map((x) => x.toFixed(1)).join(' ')} at start` : '';
  return `${machine.date.slice(0, 10)}${quick ? ' (quick run)' : ''} · ${machine.model} × ${machine.cpus} · ${machine.os}${load}`;
}

/** Runtime column headers: `node 20.20.2`. */
export function headersFor(runtimes) {
  return runtimes.map((rt) => `${rt.key} ${rt.version}`);
}

/** Notes under the tables: errors, skipped rows, skipped runtimes, tool versions. */
function notes(result) {
  const out = [];
  const errors = result.rows.filter((r) => r.error);
  if (errors.length) {
    out.push('¹ Errors:', '');
    for (const r of errors) out.push(`- ${r.runtime}, ${r.suite} / ${r.case} / ${r.subject}: ${r.error.split('\n')[0].slice(0, 300)}`);
    out.push('');
  }
  const skips = [...new Map(result.rows.filter((r) => r.skipped).map((r) => [`${r.subject}\0${r.skipped}`, r])).values()];
  if (skips.length) {
    out.push('² Skipped:', '');
    for (const r of skips) out.push(`- ${r.subject}: ${r.skipped}`);
    out.push('');
  }
  for (const [key, why] of Object.entries(result.skipped ?? {})) out.push(`- runtime ${key} skipped: ${why}`);
  if (Object.keys(result.skipped ?? {}).length) out.push('');
  const tools = Object.entries(result.machine.tools ?? {});
  if (tools.length) out.push(`Programs: ${tools.map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  return out;
}

/** The whole report (bench/results/latest.md). `chart` is the SVG's file name beside it, if any. */
export function markdown(result, runtimes, { chart } = {}) {
  const out = [];
  out.push(`# uwsgi-wasm benchmarks${result.quick ? ' (quick: a smoke run, numbers not for comparison)' : ''}`, '');
  out.push(machineLine(result.machine, result.quick), '');
  out.push('Cells: median time per operation (or requests per second) ±relative median absolute deviation of');
  out.push("the samples. Ratio tables: uwsgi-wasm's throughput divided by the peer's, same runtime, same run");
  out.push('(above 1 = uwsgi-wasm does more per second). Numbers compare only within one run on one machine.', '');
  if (chart) out.push(`![ops/s per case and runtime](${chart})`, '');
  out.push(...tables(result.rows, runtimes.map((r) => r.key), headersFor(runtimes)));
  out.push(...notes(result));
  return out.join('\n').replace(/\n*$/, '\n');
}

/** The README's Performance block: machine, chart, tables (the same as latest.md, without the notes). */
export function readmeBlock(result, runtimes, chartPath) {
  const out = [];
  const kind = result.quick ? 'Latest run (a quick smoke run: tiny samples, not for comparison; `npm run bench` replaces it)' : 'Latest full run';
  out.push(`${kind}: ${machineLine(result.machine, result.quick)}; runtimes ${headersFor(runtimes).join(', ')}.`, '');
  out.push(`![ops/s per case and runtime](${chartPath})`, '');
  out.push(...tables(result.rows, runtimes.map((r) => r.key), headersFor(runtimes)));
  return out.join('\n').replace(/\n*$/, '\n');
}
