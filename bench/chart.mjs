// An SVG bar chart of a bench result, written as text (no browser, no
// dependency): one group per case, one line per subject, one bar per runtime,
// operations (or requests) per second on a log axis, higher is better.
import { NATIVE, fmtRate, fmtTime, isLibrary } from './report.mjs';

const COLORS = { node: '#3c873a', node24: '#8cc84b', deno: '#222f3e', bun: '#d9a441', [NATIVE]: '#7b5ea7' };
const FALLBACK = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1000 → "1k", 1e6 → "1M". */
function shortRate(x) {
  for (const [d, s] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) if (x >= d) return `${+(x / d).toPrecision(3)}${s}`;
  return `${+x.toPrecision(3)}`;
}

/**
 * @param {{ rows: object[], machine: object, quick?: boolean }} result
 * @param {{ key: string, version: string }[]} runtimes in column order
 * @returns {string} an SVG document
 */
export function chartSvg(result, runtimes) {
  const keys = runtimes.map((r) => r.key);
  const rows = result.rows;
  const hasNative = rows.some((r) => r.runtime === NATIVE);
  const series = hasNative ? [...keys, NATIVE] : keys;
  const color = (k, i) => COLORS[k] ?? FALLBACK[i % FALLBACK.length];

  const good = rows.filter((r) => !r.error && !r.skipped && r.ops_per_s > 0);
  const lo = Math.floor(Math.log10(Math.min(...good.map((r) => r.ops_per_s), 1e3)));
  const hi = Math.ceil(Math.log10(Math.max(...good.map((r) => r.ops_per_s), 1e4)));

  const W = 960;
  const labelW = 330;
  const plotX = labelW + 10;
  const plotW = W - plotX - 20;
  const barH = 6;
  const x = (v) => plotX + ((Math.log10(v) - lo) / (hi - lo)) * plotW;

  const body = [];
  let y = 78;
  const cases = [...new Map(rows.map((r) => [`${r.suite}\0${r.case}`, r])).values()];
  for (const c of cases) {
    body.push(`<text x="8" y="${y + 11}" class="case">${esc(`${c.suite} · ${c.case}`)}</text>`);
    y += 18;
    const subjects = [...new Map(rows.filter((r) => r.suite === c.suite && r.case === c.case).map((r) => [`${r.subject}\0${r.threads}`, r])).values()];
    for (const s of subjects) {
      const mine = rows.filter((r) => r.suite === c.suite && r.case === c.case && r.subject === s.subject && r.threads === s.threads);
      const native = mine.some((r) => r.runtime === NATIVE);
      const bars = native ? [NATIVE] : keys;
      const h = Math.max(bars.length * (barH + 1), 12);
      const label = `${s.subject}${s.threads > 1 ? ` ×${s.threads}` : ''}`;
      body.push(`<text x="${labelW}" y="${y + h / 2 + 4}" text-anchor="end" class="${isLibrary(s.subject) ? 'lib' : 'peer'}">${esc(label)}</text>`);
      bars.forEach((k, i) => {
        const r = mine.find((m) => m.runtime === k);
        const by = y + i * (barH + 1);
        if (!r) return;
        if (r.error || r.skipped || !(r.ops_per_s > 0)) {
          body.push(`<text x="${plotX + 4}" y="${by + barH}" class="note">${r.skipped ? 'skipped' : 'error'} (${esc(k)})</text>`);
          return;
        }
        const value = r.unit === 'req' ? `${fmtRate(r.ops_per_s)} req/s` : `${fmtTime(r.ns_per_op)}/op`;
        const w = Math.max(1, x(r.ops_per_s) - plotX);
        body.push(`<rect x="${plotX}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${color(k, series.indexOf(k))}"><title>${esc(`${s.subject} · ${k}: ${shortRate(r.ops_per_s)}/s (${value})`)}</title></rect>`);
      });
      y += h + 4;
    }
    y += 6;
  }
  const height = y + 10;

  const grid = [];
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d);
    grid.push(`<line x1="${gx.toFixed(1)}" y1="62" x2="${gx.toFixed(1)}" y2="${height - 10}" class="grid"/>`);
    grid.push(`<text x="${gx.toFixed(1)}" y="58" text-anchor="middle" class="axis">${shortRate(10 ** d)}</text>`);
  }
  const legend = series.map((k, i) => {
    const lx = plotX + i * 120;
    const rt = runtimes.find((r) => r.key === k);
    const name = k === NATIVE ? 'native (uWSGI)' : `${k} ${rt?.version ?? ''}`;
    return `<rect x="${lx}" y="30" width="10" height="10" fill="${color(k, i)}"/><text x="${lx + 14}" y="39" class="axis">${esc(name)}</text>`;
  });
  const title = `uwsgi-wasm bench${result.quick ? ' (quick)' : ''} · ${result.machine.date.slice(0, 10)} · ${result.machine.model} × ${result.machine.cpus}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    '<style>.case{font-size:12px;font-weight:600;fill:#222}.lib{font-size:11px;font-weight:700;fill:#b03a2e}.peer{font-size:11px;fill:#333}.axis{font-size:10px;fill:#555}.note{font-size:10px;fill:#999;font-style:italic}.grid{stroke:#ddd;stroke-width:1}</style>',
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="18" font-size="13" font-weight="700" fill="#222">${esc(title)}</text>`,
    `<text x="8" y="39" class="axis">operations (or requests) per second, log scale, longer is faster</text>`,
    ...legend,
    ...grid,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
