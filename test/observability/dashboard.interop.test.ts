/**
 * The stats dashboard in a real browser: Debian's chromium, headless, driven by
 * playwright-core. The page must load with no request leaving the stats
 * server, draw its three charts, and follow the numbers as they change. The
 * screenshot is kept as build/artifacts/dashboard.png.
 */
import { run } from 'uwsgi-wasm';
import { mkdirSync } from 'node:fs';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { needs, tempDir, which } from '../lib/interop.ts';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

interface DashboardState { samples: number; errors: number; requests: Record<string, number[]>; caches: Record<string, number[]>; memory: Record<string, number[]> }

describe('dashboard (chromium)', () => {
  test('renders the three charts from the live stats and follows the numbers as they change', async ({ skip }) => {
    const missing = needs('chromium');
    if (missing) skip(missing);
    const { chromium } = await import('playwright-core');
    const master = await run({
      options: { workers: 2, cache2: ['name=default,items=100', 'name=sessions,items=10'], stats: '127.0.0.1:0', 'stats-http': true },
      app: 'build/tests/fixtures/forever.js', handleSignals: false,
    });
    const profile = tempDir('uwsgi-wasm-chromium-');
    // Stand-in for the worker status table (issue 5): counters the test moves.
    const served = [0, 0];
    master.services.setWorkerCounters((id) => ({ requests: served[id - 1], rss: (30 + 10 * id) * 2 ** 20 }));
    const context = await chromium.launchPersistentContext(profile.path, {
      executablePath: which('chromium')!, headless: true, args: FLAGS, viewport: { width: 1280, height: 760 },
    });
    try {
      await master.ready();
      const base = `http://127.0.0.1:${master.services.stats!.port}`;
      const page = context.pages()[0] ?? await context.newPage();
      const foreign: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      const u = master.uwsgi;
      u.cache_set('a', '1');
      u.cache_get('a'); u.cache_get('nope');                      // default: 1 hit, 1 miss = 50%
      u.cache_set('s', '1', 0, 'sessions');
      for (let i = 0; i < 3; i++) u.cache_get('s', 'sessions');   // sessions: 100%
      await page.goto(`${base}/dashboard?interval=200`);
      const state = () => page.evaluate(() => (window as unknown as { __dashboard: DashboardState }).__dashboard);
      await page.waitForFunction(() => (window as unknown as { __dashboard: DashboardState }).__dashboard.samples >= 2, undefined, { timeout: 15_000 });
      let s = await state();
      assert.equal(s.errors, 0);
      assert.equal(s.caches.default.at(-1), 50);
      assert.equal(s.caches.sessions.at(-1), 100);
      assert.deepEqual(Object.keys(s.memory).sort(), ['process', 'worker 1', 'worker 2']);
      assert.equal(s.memory['worker 2'].at(-1), 50 * 2 ** 20);

      // The numbers move; the charts follow within a few polls.
      const before = s.samples;
      served[0] += 500;
      served[1] += 100;
      u.cache_get('nope'); u.cache_get('nope');                   // default: 1 hit of 4 = 25%
      await page.waitForFunction((n) => {
        const d = (window as unknown as { __dashboard: DashboardState }).__dashboard;
        return d.samples > n + 1 && d.caches.default.at(-1) === 25;
      }, before, { timeout: 15_000 });
      s = await state();
      const peak = (name: string) => Math.max(...s.requests[name]);
      assert.ok(peak('worker 1') > peak('worker 2') && peak('worker 2') > 0, `requests/s peaks ${peak('worker 1')} ${peak('worker 2')}`);

      // What is on screen: one path per series in each chart, legends with the last values.
      const series = await page.$$eval('svg path[data-series]', (ps) => ps.map((p) => `${p.closest('svg')!.id}:${p.getAttribute('data-series')}`));
      assert.deepEqual(series.sort(), ['chart-caches:default', 'chart-caches:sessions', 'chart-memory:process', 'chart-memory:worker 1', 'chart-memory:worker 2',
        'chart-requests:worker 1', 'chart-requests:worker 2']);
      assert.match(await page.textContent('#legend-caches') ?? '', /default: 25%.*sessions: 100%/);
      assert.match(await page.textContent('#legend-memory') ?? '', /worker 2: 50\.0 MiB/);
      assert.match(await page.textContent('#summary') ?? '', /2 workers · 600 requests · 2 caches/);
      assert.deepEqual(foreign, [], 'no request leaves the stats server (no CDN)');
      assert.deepEqual(problems, []);
      mkdirSync('build/artifacts', { recursive: true });
      await page.screenshot({ path: 'build/artifacts/dashboard.png', fullPage: true });
    } finally {
      await context.close();
      await master.stop();
      profile.cleanup();
    }
  }, 120_000);
});
