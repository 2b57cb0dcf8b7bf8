import { createEngine } from 'uwsgi-wasm';
import { TopView, engineStatsSources, humanSize, parseTopArgs, readStats, runTop, startStatsServer, type TopDoc } from 'uwsgi-wasm/stats';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';

const worker = (id: number, requests: number, extra: Partial<TopDoc['workers'] & object> = {}) => ({
  id, pid: 100, requests, exceptions: 0, signals: 1, status: 'idle', avg_rt: 2500, rss: 30 * 2 ** 20, vsz: 3 * 2 ** 30, tx: 2048,
  respawn_count: 1, harakiri_count: 0, running_time: 123_456, last_spawn: 0, ...extra,
});

describe('top: arguments and layout', () => {
  test('arguments: address, --frequency, --count, --plain; mistakes are ERR_OPTION naming them', () => {
    assert.deepEqual(parseTopArgs(['127.0.0.1:9191']), { address: '127.0.0.1:9191', frequency: 1, count: 0, plain: false });
    assert.deepEqual(parseTopArgs(['--frequency', '0.5', '--count=3', '--plain', '/run/stats.sock']), { address: '/run/stats.sock', frequency: 0.5, count: 3, plain: true });
    throwsUwsgi(() => parseTopArgs([]), 'ERR_OPTION', /address is missing/);
    throwsUwsgi(() => parseTopArgs(['a:1', 'b:2']), 'ERR_OPTION', /one address only/);
    throwsUwsgi(() => parseTopArgs(['--frequency', '0', 'a:1']), 'ERR_OPTION', /--frequency must be .* at least 0\.1/);
    throwsUwsgi(() => parseTopArgs(['--count', '1.5', 'a:1']), 'ERR_OPTION', /--count must be a whole number/);
    throwsUwsgi(() => parseTopArgs(['--frequency']), 'ERR_OPTION', /--frequency needs a value/);
    throwsUwsgi(() => parseTopArgs(['--colour', 'a:1']), 'ERR_OPTION', /unknown option '--colour'/);
  });

  test("uwsgitop's layout: header with totals, node line, one line per worker sorted by requests, RPS from the previous frame", () => {
    const view = new TopView();
    const t0 = Date.UTC(2030, 0, 15, 12, 0, 0);
    const doc = (r1: number, r2: number): TopDoc => ({
      version: '2.0.21', pid: 100, uid: 0, gid: 0, cwd: '/srv', listen_queue: 3, workers: [worker(1, r1), worker(2, r2, { status: 'busy' })],
    });
    let lines = view.frame(doc(10, 30), t0, 'web1');
    assert.match(lines[0], /^uwsgi-2\.0\.21 - .* - req: 40 - RPS: 0 - lq: 3 - tx: 4\.0K$/);
    assert.equal(lines[1], 'node: web1 - cwd: /srv - uid: 0 - gid: 0 - masterpid: 100');
    assert.deepEqual(lines[2].trim().split(/\s+/), ['WID', '%', 'PID', 'REQ', 'RPS', 'EXC', 'SIG', 'STATUS', 'AVG', 'RSS', 'VSZ', 'TX', 'ReSpwn', 'HC', 'RunT', 'LastSpwn']);
    assert.deepEqual(lines[3].trim().split(/\s+/), ['2', '75.0', '100', '30', '0', '0', '1', 'busy', '2ms', '30.0M', '3.0G', '2.0K', '1', '0', '123', '--:--:--']);
    assert.deepEqual(lines[4].trim().split(/\s+/).slice(0, 4), ['1', '25.0', '100', '10']);
    // Two seconds later: worker 1 served 100 more (50/s), worker 2 none; worker 1 now leads.
    lines = view.frame(doc(110, 30), t0 + 2000, 'web1');
    assert.match(lines[0], /req: 140 - RPS: 50 -/);
    assert.deepEqual(lines[3].trim().split(/\s+/).slice(0, 5), ['1', '78.6', '100', '110', '50']);
    assert.deepEqual(lines[4].trim().split(/\s+/).slice(0, 5), ['2', '21.4', '100', '30', '0']);
    // Colour: the column header in reverse video, a busy worker in green (uwsgitop's colours).
    const coloured = new TopView().frame(doc(1, 2), t0, 'web1', true);
    assert.ok(coloured[2].startsWith('\x1b[7m') && coloured[3].startsWith('\x1b[32m'));
  });

  test("the lines uwsgitop does not have: caches, mules, spoolers, the master's signal queue; uWSGI's listen queue from the sockets", () => {
    const lines = new TopView().frame({
      workers: [worker(1, 0)], sockets: [{ queue: 2 }, { queue: 1 }], signal_queue: 4,
      caches: [{ name: 'default', items: 5, max_items: 10, hits: 3, miss: 1, full: 2 }],
      mules: [{ id: 1, queue: 3 }], spoolers: [{ dir: '/spool', tasks: 7, running: 1, waiting: 2, failed: 1 }],
    }, 0, 'h');
    assert.match(lines[0], /^uwsgi - .* - lq: 3 - /);
    assert.deepEqual(lines.slice(4), [
      'caches: default 5/10 items, 75.0% hits, 2 full', 'mules: 1 (3 waiting)', 'spoolers: /spool 7 tasks, running, 2 waiting, 1 failed',
      "signals waiting in the master's queue: 4",
    ]);
    assert.deepEqual([humanSize(10), humanSize(2048), humanSize(5 * 2 ** 20), humanSize(2 ** 31)], ['10', '2.0K', '5.0M', '2.0G']);
  });
});

describe('top: reading stats servers', () => {
  test('our stats server over TCP, a unix socket and HTTP; a frame per --frequency, then it stops after --count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-top-'));
    const e = createEngine({ cache2: 'name=default,items=10', workers: 2 });
    const threads = () => [1, 2].map((ident) => ({ kind: 'worker' as const, ident, tid: -1, state: 'running' as const, spawnedAt: 0, spawns: 1 }));
    const sources = engineStatsSources(e, threads);
    const tcp = await startStatsServer(sources, { address: { host: '127.0.0.1', port: 0 } });
    const unix = await startStatsServer(sources, { address: { path: join(dir, 's.sock') } });
    const http = await startStatsServer(sources, { address: { host: '127.0.0.1', port: 0 }, http: true });
    try {
      const w1 = e.attach('worker', 1);
      for (let i = 0; i < 3; i++) await w1.accounted(() => {});
      e.uwsgi.cache_set('k', 'v');
      e.uwsgi.cache_get('k');
      for (const addr of [`127.0.0.1:${tcp.port}`, join(dir, 's.sock'), `http://127.0.0.1:${http.port}/`]) {
        const doc = await readStats(addr);
        assert.deepEqual(doc.workers!.map((w) => [w.id, w.requests]), [[1, 3], [2, 0]], addr);
      }
      // host:port of a --stats-http server (npm start's): nothing comes on connect, so top asks over HTTP.
      assert.deepEqual((await readStats(`127.0.0.1:${http.port}`)).workers!.map((w) => [w.id, w.requests]), [[1, 3], [2, 0]], 'host:port of an HTTP stats server');
      let out = '';
      const t0 = Date.now();
      await runTop({ address: `127.0.0.1:${tcp.port}`, frequency: 0.2, count: 2, plain: true }, { write: (t) => { out += t; }, onStop: () => () => {} });
      assert.ok(Date.now() - t0 >= 180, 'the second frame waits --frequency');
      const frames = out.trim().split('\n\n');
      assert.equal(frames.length, 2, out);
      for (const f of frames) {
        const lines = f.split('\n');
        assert.match(lines[0], /^uwsgi-2\.0\.21-uwsgi-wasm - .* - req: 3 - RPS: 0 - lq: 0 - tx: 0$/);
        assert.deepEqual(lines.slice(3, 5).map((l) => l.trim().split(/\s+/).slice(0, 4)), [['1', '100.0', String(e.shared.masterPid), '3'], ['2', '0.0', String(e.shared.masterPid), '0']]);
        assert.equal(lines[5], 'caches: default 1/10 items, 100.0% hits');
      }
      assert.ok(!out.includes('\x1b'), 'plain output has no escape sequences');

      // Full screen: each frame clears the screen; the cursor is hidden, then shown again; Ctrl-C ends it.
      let screen = '';
      let stop: (() => void) | undefined;
      const done = runTop({ address: `127.0.0.1:${tcp.port}`, frequency: 0.1, count: 0, plain: false }, {
        write: (t) => { screen += t; if ((screen.match(/\x1b\[H\x1b\[2J/g) ?? []).length === 3) stop?.(); },
        onStop: (fn) => { stop = fn; return () => { stop = undefined; }; },
      });
      await done;
      assert.equal((screen.match(/\x1b\[H\x1b\[2J/g) ?? []).length, 3);
      assert.ok(screen.startsWith('\x1b[?25l') && screen.endsWith('\x1b[?25h'));
      assert.match(screen, /\x1b\[7m +WID|\x1b\[7mWID/);
    } finally {
      await Promise.all([tcp.close(), unix.close(), http.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test('nothing there, or not a stats server: typed errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-top-'));
    try {
      await rejectsUwsgi(readStats(join(dir, 'none.sock')), 'ERR_CONNECT');
      // Not a stats server: it writes something else on connect, then closes.
      const other = net.createServer((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'));
      await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
      try {
        await rejectsUwsgi(readStats(`127.0.0.1:${(other.address() as net.AddressInfo).port}`), 'ERR_BAD_REPLY', /not JSON.*SSH-2\.0/);
        await rejectsUwsgi(runTop({ address: join(dir, 'none.sock'), frequency: 1, count: 1, plain: true }, { write: () => {}, onStop: () => () => {} }), 'ERR_CONNECT');
      } finally {
        await new Promise((r) => other.close(r));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
