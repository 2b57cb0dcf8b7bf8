/**
 * The stats dashboard in a real browser: Debian's chromium, headless, driven by
 * playwright-core, against a master with two workers serving HTTP, a mule in a
 * farm, a spooler, two caches, a queue, a timer and a cron entry. Every panel
 * must show the live numbers of that master (checked in the page's text, as a
 * person reads it) and follow them as they change; no request may leave the
 * stats server (no CDN). Each panel's screenshot is read back as pixels and
 * compared with the same panel on a page that got no data (lines of text, and
 * each chart's series in its colour). Screenshots of the page and of each panel
 * are kept in build/artifacts/ (dashboard.png, dashboard-<panel>.png).
 */
import { run } from 'uwsgi-wasm';
import { mkdirSync } from 'node:fs';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { freePort, needs, tempDir, which } from '../lib/interop.ts';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

const PANELS = ['workers', 'requests', 'caches', 'mules', 'spooler', 'queue', 'locks', 'signals', 'timers', 'snmp', 'sharedareas', 'memory', 'log'];

/** The page's first series colours (COLORS in ts/observability/dashboard.ts), and the series each chart panel draws in them. */
const CHART_COLOURS = ['#2e90fa', '#f79009'];
const SERIES: Record<string, string[]> = { requests: ['worker 1', 'worker 2'], caches: ['default', 'sessions'], memory: ['process rss'] };

/**
 * What a screenshot shows, read in the browser (a canvas decodes the PNG): rows
 * under the first `top` px (a panel's heading) holding any pixel far from the
 * background (the most common colour), and pixels near each of `colours`.
 */
async function pixelsOf(page: import('playwright-core').Page, png: Buffer, colours: string[], top = 34): Promise<{ inkRows: number; colourPixels: number[] }> {
  return page.evaluate(async ({ b64, colours, top }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(img, 0, 0);
    const { data, width, height } = g.getImageData(0, 0, canvas.width, canvas.height);
    const seen = new Map<number, number>();
    for (let i = 0; i < data.length; i += 4) { const k = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]; seen.set(k, (seen.get(k) ?? 0) + 1); }
    const bg = [...seen.entries()].sort((a, b) => b[1] - a[1])[0][0];
    const near = (i: number, rgb: number, d: number) => Math.abs(data[i] - (rgb >> 16)) + Math.abs(data[i + 1] - ((rgb >> 8) & 255)) + Math.abs(data[i + 2] - (rgb & 255)) <= d;
    const want = colours.map((c) => parseInt(c.slice(1), 16));
    const colourPixels = want.map(() => 0);
    let inkRows = 0;
    for (let y = top; y < height; y++) {
      let ink = false;
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        if (!near(i, bg, 96)) ink = true;
        want.forEach((c, k) => { if (near(i, c, 24)) colourPixels[k]++; });
      }
      if (ink) inkRows++;
    }
    return { inkRows, colourPixels };
  }, { b64: png.toString('base64'), colours, top });
}

interface DashboardState { samples: number; errors: number; requests: Record<string, number[]>; caches: Record<string, number[]>; memory: Record<string, number[]>; last: unknown }
type Win = { __dashboard: DashboardState };

describe('dashboard (chromium)', () => {
  test('every panel shows the live state of a master with workers, a mule, a spooler, caches, a queue and timers', async ({ skip }) => {
    const missing = needs('chromium');
    if (missing) skip(missing);
    const { chromium } = await import('playwright-core');
    const spool = tempDir('uwsgi-wasm-dash-spool-');
    const httpPort = await freePort();
    const master = await run({
      options: {
        workers: 2, 'http-socket': `127.0.0.1:${httpPort}`, cache2: ['name=default,items=100', 'name=sessions,items=10'], queue: 8, locks: 2,
        sharedarea: 1, mule: 'build/tests/fixtures/forever.js', farm: 'pool:1', spooler: spool.path, 'spooler-frequency': 3600, 'spooler-quiet': true,
        stats: '127.0.0.1:0', 'stats-http': true,
      },
      app: 'build/tests/fixtures/dashboard-app.js', handleSignals: false, log: () => {},
    });
    const profile = tempDir('uwsgi-wasm-chromium-');
    const context = await chromium.launchPersistentContext(profile.path, {
      executablePath: which('chromium')!, headless: true, args: FLAGS, viewport: { width: 1400, height: 1000 },
    });
    try {
      await master.ready();
      await master.serving();
      const u = master.uwsgi;
      const get = (path: string) => fetch(`http://127.0.0.1:${httpPort}${path}`).then((r) => r.text());
      // Requests: 20 lookups of 10 keys, so 10 misses then 10 hits in the default cache (50%).
      for (let i = 0; i < 20; i++) await get(`/k${i % 10}`);
      u.cache_set('s', '1', 0, 'sessions');
      u.cache_get('s', 'sessions');                                  // sessions: 100%
      u.mule_msg('one', 1); u.mule_msg('two', 1); u.mule_msg('three', 1);   // the mule never reads: 3 wait
      u.farm_msg('pool', 'for the farm');
      u.queue_push('a'); u.queue_push('b');
      u.lock(1);
      u.spool({ outcome: 'retry' });                                  // runs once, fails, waits for the next scan
      u.spool({ outcome: 'ok' });
      u.add_timer(17, 1);
      u.add_cron(18, -1, -1, -1, -1, -1);
      u.snmp_set_gauge(5, 42);
      await master.killWorker(2);                                     // the master logs the death and respawns it

      const base = `http://127.0.0.1:${master.services.stats!.port}`;
      const page = context.pages()[0] ?? await context.newPage();
      const foreign: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      await page.goto(`${base}/dashboard?interval=200`);
      const panel = (name: string) => page.locator(`[data-panel="${name}"]`);
      const text = async (name: string) => (await panel(name).innerText()).replace(/\s+/g, ' ');
      // Waits until the page shows what the master did: the spooler ran both tasks, worker 2 is back, the timer fired.
      await page.waitForFunction(() => {
        const d = (window as unknown as Win).__dashboard;
        const doc = d.last as unknown as { spoolers?: Array<{ tasks: number; failed: number }>; workers?: Array<{ respawn_count: number; thread_state: string }>; timers?: Array<{ fired: number }> } | null;
        return d.samples >= 3 && !!doc && !!doc.spoolers?.[0] && doc.spoolers[0].tasks - doc.spoolers[0].failed === 1 && doc.spoolers[0].failed >= 1 && doc.workers?.[1]?.respawn_count === 2 &&
          doc.workers?.[1]?.thread_state === 'running' && (doc.timers?.[0]?.fired ?? 0) >= 1;
      }, undefined, { timeout: 20_000 }).catch(async (e) => {
        const last = await page.evaluate(() => JSON.stringify((window as unknown as Win).__dashboard.last));
        throw new Error(`the page never showed the master's state: ${(e as Error).message}\n${last}`);
      });

      // Workers: uwsgitop's columns; the 20 requests are split between the two workers.
      const workerRows = await panel('workers').locator('tr').allInnerTexts();
      assert.equal(workerRows.length, 3, workerRows.join('\n'));
      assert.match(workerRows[0], /WID\s+status\s+requests\s+req\/s\s+exceptions\s+avg rt\s+last rt/);
      const served = workerRows.slice(1).map((r) => Number(r.split('\t')[2]));
      assert.equal(served[0] + served[1], 20, workerRows.join('\n'));
      const w2 = workerRows.slice(1).find((r) => r.startsWith('2\t'))!.split('\t');
      assert.deepEqual([w2[8], w2[9], w2[11], w2[12]], ['2', '0', '0', '0'], `worker 2: spawned twice, no harakiri, no signal waiting, no grunt: ${w2.join(' ')}`);
      assert.match(await text('workers'), /running \(slot \d+\)/);
      assert.match(await page.textContent('#summary') ?? '', /2 workers · 20 requests/);

      // Caches: items / max, hits, misses and the hit rate, and the chart with both caches.
      assert.match(await text('caches'), /default 10 \/ 100 10 10 0 50\.0%/);
      assert.match(await text('caches'), /sessions 1 \/ 10 1 0 0 100\.0%/);
      assert.match(await page.textContent('#legend-caches') ?? '', /default: 50%.*sessions: 100%/);

      // Mules and farms: the mule's own mailbox holds the 3 messages, the farm's 1.
      assert.match(await text('mules'), /mule 1 running 3 0 0 1 pool .*forever\.js/);
      assert.match(await text('mules'), /farm pool 1 mules 1/);
      assert.match(await text('mules'), /shared mailbox 0/);
      assert.match(await text('mules'), /mailboxes hold 8 messages/);

      // Spooler: one task done, one failed (once per time the spooler was woken) and waiting for the next scan.
      assert.match(await text('spooler'), new RegExp(`${spool.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\d+ 1 no 1 [12] 0`));

      assert.match(await text('queue'), /slots in use 2 \/ 8/);
      assert.match(await text('locks'), /user 1 master 0/);
      // Signal, target, handlers, then raised, delivered, queued and lost: the timer and cron signals were raised and delivered.
      assert.match(await text('signals'), /17 worker worker 1, worker 2 [1-9]\d* [1-9]\d* \d+ \d+/);
      assert.match(await text('signals'), /18 worker worker 1, worker 2 [1-9]\d* [1-9]\d* \d+ \d+/);
      assert.match(await page.textContent('#signals-note') ?? '', /\d+ raised · \d+ handled · \d+ queued · \d+ lost · master queue \d+/);
      assert.match(await text('timers'), /17 timer every 1 s \d+ (in [\d.]+ s|due)/);
      assert.match(await text('timers'), /18 cron -1 -1 -1 -1 -1 last \S+/);
      assert.match(await text('cluster'), /not in a cluster \(--cluster\)/);
      assert.match(await text('snmp'), /1\.3\.6\.1\.4\.1\.35156\.17\.2\.5 gauge32 42/);
      assert.match(await text('sharedareas'), /0 4\.0 KiB \d+ \d+/);
      assert.match(await text('memory'), /resident \(rss\) \d+(\.\d)? MiB/);
      assert.match(await text('log'), /uwsgi-wasm: worker 2 died \(code \d+\); respawning/);

      // The numbers move; the page follows within a few polls: requests per second, the queue, the lock.
      const before = (await page.evaluate(() => (window as unknown as Win).__dashboard.samples));
      await Promise.all(Array.from({ length: 60 }, (_, i) => get(`/k${i % 10}`)));
      u.queue_pull();
      u.unlock(1);
      await page.waitForFunction((n) => {
        const d = (window as unknown as Win).__dashboard;
        return d.samples > n + 2 && Object.values(d.requests).some((s) => Math.max(...s) > 0);
      }, before, { timeout: 15_000 });
      assert.match(await text('queue'), /slots in use 1 \/ 8/);
      assert.match(await text('locks'), /none of the 3 user locks is held/);
      assert.match(await page.textContent('#summary') ?? '', /2 workers · 80 requests/);
      const series = await page.$$eval('svg path[data-series]', (ps) => ps.map((p) => `${p.closest('svg')!.id}:${p.getAttribute('data-series')}`));
      assert.deepEqual(series.sort(), ['chart-caches:default', 'chart-caches:sessions', 'chart-memory:process rss', 'chart-requests:worker 1', 'chart-requests:worker 2']);

      assert.deepEqual(foreign, [], 'no request leaves the stats server (no CDN)');
      assert.deepEqual(problems, []);
      mkdirSync('build/artifacts', { recursive: true });
      await page.screenshot({ path: 'build/artifacts/dashboard.png', fullPage: true });
      // Each panel's screenshot, read back as pixels, against the same panel on a page that got no data
      // (its source answers nothing): the data must add at least a line of text (8 rows of ink) under the heading, and each
      // chart must draw its series in the series' colours.
      const empty = await context.newPage();
      await empty.goto(`${base}/dashboard?interval=200&source=${encodeURIComponent('http://127.0.0.1:9/')}`);
      await empty.waitForFunction(() => (window as unknown as Win).__dashboard.errors >= 1, undefined, { timeout: 10_000 });
      for (const name of PANELS) {
        const shot = await panel(name).screenshot({ path: `build/artifacts/dashboard-${name}.png` });
        const blank = await empty.locator(`[data-panel="${name}"]`).screenshot();
        const [got, none] = [await pixelsOf(page, shot, []), await pixelsOf(page, blank, [])];
        assert.ok(got.inkRows >= none.inkRows + 8, `panel ${name}: ${got.inkRows} rows with ink under its heading, ${none.inkRows} without data`);
        const series = SERIES[name];
        if (!series) continue;
        const [line, noLine] = [await pixelsOf(page, await page.locator(`#chart-${name}`).screenshot(), CHART_COLOURS, 0),
          await pixelsOf(empty, await empty.locator(`#chart-${name}`).screenshot(), CHART_COLOURS, 0)];
        // Each series is a path stroked in its colour. Where two series hold the same values (two workers that
        // served the same requests per second), the later path covers the earlier: the screenshot then shows the
        // earlier colour only where the values differ, so a covered series is checked by its path instead.
        const paths = await page.$$eval(`#chart-${name} path[data-series]`, (ps) => ps.map((p) => ({ n: p.getAttribute('data-series'), stroke: p.getAttribute('stroke'), d: p.getAttribute('d') ?? '' })));
        assert.deepEqual(paths.map((p) => [p.n, p.stroke]), series.map((n, i) => [n, CHART_COLOURS[i]]), `chart ${name}: one path per series in its colour`);
        const pointsOf = (d: string) => d.split(/[ML]/).map((pt) => pt.trim()).filter(Boolean);
        series.forEach((n, i) => {
          const later = new Set(paths.slice(i + 1).flatMap((p) => pointsOf(p.d)));
          const uncovered = pointsOf(paths[i].d).filter((pt) => !later.has(pt)).length;
          assert.ok(noLine.colourPixels[i] === 0 && (line.colourPixels[i] >= 20 || uncovered <= 2),
            `chart ${name}: ${line.colourPixels[i]} pixels of ${n}'s colour ${CHART_COLOURS[i]} (${noLine.colourPixels[i]} without data; ${uncovered} of its points not under a later series)`);
        });
        assert.ok(line.colourPixels.slice(0, series.length).reduce((a, b) => a + b, 0) >= 20, `chart ${name}: its lines are drawn`);
      }
      await empty.close();
    } finally {
      await context.close();
      await master.stop();
      profile.cleanup();
      spool.cleanup();
    }
  }, 120_000);
});
