import { createEngine, run, type Master } from 'uwsgi-wasm';
import { collectStats, engineStatsSources, nextCronFiring, renderStats, startStatsServer, statusTableCounters } from 'uwsgi-wasm/stats';
import { SpoolerLoop } from 'uwsgi-wasm/spooler';
import * as net from 'node:net';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import schema from '../schemas/stats.schema.json';
import { validate } from '../lib/schema.ts';
import { nodeTableOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

/** Read everything a stats socket sends until it closes (uwsgitop's plain-mode client). */
function readAll(opts: { port: number; host: string } | { path: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const c = net.connect(opts as net.NetConnectOpts);
    c.on('data', (d: Uint8Array) => chunks.push(new Uint8Array(d)));
    c.on('end', () => resolve(new TextDecoder().decode(concat(chunks))));
    c.on('error', reject);
  });
}
function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

const OPTIONS = {
  workers: 2, cache2: ['name=default,items=10', 'name=sessions,items=5,hash=murmur2'], queue: 8, sharedarea: 1, locks: 2, mules: 1,
  stats: '127.0.0.1:0',
};

async function master(extra: Record<string, unknown> = {}): Promise<Master> {
  const m = await run({ options: { ...OPTIONS, ...extra }, app: 'build/tests/fixtures/forever.js', handleSignals: false });
  await m.ready();
  return m;
}

describe('stats document', () => {
  test('a standalone engine: the document follows the schema, uWSGI key order first', () => {
    const e = createEngine({ cache2: 'name=default,items=10', locks: 1 });
    const doc = JSON.parse(renderStats(collectStats({ engine: e })));
    assert.deepEqual(validate(schema, doc), []);
    assert.deepEqual(Object.keys(doc).slice(0, 11), ['version', 'signal_queue', 'load', 'pid', 'uid', 'gid', 'cwd', 'locks', 'caches', 'sockets', 'workers']);
    assert.deepEqual(doc.locks, [{ 'user 0': 0 }, { 'user 1': 0 }]);
    assert.deepEqual(doc.workers, []);
    assert.equal(doc.version, '2.0.21-uwsgi-wasm');
  });

  test("uWSGI's layout: tabs, no space after the colon, no trailing newline; minified has no whitespace; 64-bit values exact", () => {
    const e = createEngine({});
    e.uwsgi.snmp_set_counter64(1, 2n ** 64n - 1n);
    const doc = collectStats({ engine: e });
    const text = renderStats(doc);
    assert.ok(text.startsWith('{\n\t"version":"2.0.21-uwsgi-wasm",\n\t"signal_queue":0,\n'), text.slice(0, 60));
    assert.ok(text.endsWith('}') && !text.endsWith('\n}\n'));
    assert.match(text, /"value":18446744073709551615\n/);
    const min = renderStats(doc, true);
    assert.ok(!/[\t\n]/.test(min));
    assert.deepEqual(JSON.parse(min), JSON.parse(text));
    // Strings are escaped (uWSGI writes them raw, which breaks JSON on a quote).
    assert.equal(renderStats({ cwd: 'a"b\\c' }, true), '{"cwd":"a\\"b\\\\c"}');
  });

  test('a master: workers, mules, caches, queue, locks, snmp sections from live shared memory', async () => {
    const m = await master();
    try {
      const u = m.uwsgi;
      u.lock(1);
      u.cache_set('k', 'v');
      u.cache_get('k'); u.cache_get('k'); u.cache_get('missing');
      u.cache_set('s', 'v', 0, 'sessions');
      u.queue_push('a');
      u.sharedarea_inclong(0);
      u.snmp_set_gauge(5, 42);
      const doc = JSON.parse(renderStats(collectStats(m.services.sources)));
      assert.deepEqual(validate(schema, doc), []);
      assert.deepEqual(doc.workers.map((w: { id: number; status: string; accepting: number; respawn_count: number; thread_state: string }) => [w.id, w.status, w.accepting, w.respawn_count, w.thread_state]),
        [[1, 'idle', 1, 1, 'running'], [2, 'idle', 1, 1, 'running']]);
      assert.ok(doc.workers.every((w: { last_spawn: number; pid: number; tid: number }) => Math.abs(w.last_spawn - Date.now() / 1000) < 60 && w.pid === u.masterpid() && w.tid > 0));
      assert.deepEqual(doc.mules.map((x: { id: number; file: null }) => [x.id, x.file]), [[1, null]]);
      assert.deepEqual(doc.caches.map((c: { name: string; items: number; hits: number; miss: number; hash: string; max_items: number }) => [c.name, c.items, c.hits, c.miss, c.hash, c.max_items]),
        [['default', 1, 2, 1, 'djb33x', 10], ['sessions', 1, 0, 0, 'murmur2', 5]]);
      assert.deepEqual(doc.queue, { slots: 8, blocksize: 8192, push_slot: 1, pull_slot: 0, used: 1 });
      assert.deepEqual(doc.lock_holders, [{ lock: 'user 1', tid: 0, holder: 'master' }]);
      assert.deepEqual(doc.locks, [{ 'user 0': 0 }, { 'user 1': u.masterpid() }, { 'user 2': 0 }]);
      assert.deepEqual(doc.sharedareas, [{ id: 0, size: 4096, updates: 1, hits: 0 }]);
      assert.deepEqual(doc.snmp.slots, [{ oid: '1.3.6.1.4.1.35156.17.2.5', slot: 5, type: 'gauge32', value: 42 }]);
      u.unlock(1);

      // A killed worker is respawned: its respawn_count goes to 2 (uWSGI counts the first spawn).
      await m.killWorker(2);
      for (let i = 0; i < 100; i++) {
        const w2 = (collectStats(m.services.sources).workers as Array<{ id: number; respawn_count: number; thread_state: string }>).find((w) => w.id === 2)!;
        if (w2.respawn_count === 2 && w2.thread_state === 'running') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const w2 = (collectStats(m.services.sources).workers as Array<{ id: number; respawn_count: number }>).find((w) => w.id === 2)!;
      assert.equal(w2.respawn_count, 2);

      // The worker status table plugs in here (uwsgi.workers(), issue 5): its numbers are served as given.
      m.services.setWorkerCounters((id) => ({ requests: id * 10, tx: 100n, avg_rt: 7, status: id === 1 ? 'busy' : 'idle', rss: 1 << 20 }));
      const doc2 = JSON.parse(renderStats(collectStats(m.services.sources)));
      assert.deepEqual(validate(schema, doc2), []);
      assert.deepEqual(doc2.workers.map((w: { requests: number; status: string; rss: number }) => [w.requests, w.status, w.rss]), [[10, 'busy', 1 << 20], [20, 'idle', 1 << 20]]);
      assert.equal(doc2.load, 1, 'load counts busy workers');
    } finally {
      await m.stop();
    }
  }, 60_000);

  test('--stats-no-cores leaves out cores; a bad address is ERR_OPTION', () => {
    const e = createEngine({ 'stats-no-cores': true });
    const doc = collectStats({ engine: e, noCores: e.shared.config.statsNoCores, threads: () => [{ kind: 'worker', ident: 1, tid: 1, state: 'running', spawnedAt: 0, spawns: 1 }] });
    assert.ok(!('cores' in (doc.workers as Array<Record<string, unknown>>)[0]));
    throwsUwsgi(() => createEngine({ stats: '127.0.0.1:99999' }), 'ERR_OPTION', /option 'stats' '127.0.0.1:99999' needs a port 0\.\.65535/);
    throwsUwsgi(() => createEngine({ stats: true }), 'ERR_OPTION', /needs an address/);
  });
});

describe('stats document: what the dashboard shows beyond uWSGI', () => {
  /** A fixed local time, so cron's next firing is known: 15 Jan 2030, 03:10. */
  const T0 = new Date(2030, 0, 15, 3, 10, 0).getTime();

  test('timers and cron entries with their next firing, on a fake clock', () => {
    const e = createEngine({});
    let now = T0;
    e.setClock(() => now);
    const u = e.uwsgi;
    u.add_timer(17, 2);
    u.add_rb_timer(18, 0.5, 3);
    u.add_cron(19, 30, 4, -1, -1, -1);      // 04:30 every day: 80 minutes from 03:10
    u.add_cron(21, 0, 0, 31, 2, -1);        // 31 February: never
    u.add_cron(22, -15, -1, -1, -1, 3);     // every 15 minutes on Wednesdays (15 Jan 2030 is a Tuesday)
    let doc = JSON.parse(renderStats(collectStats(engineStatsSources(e))));
    assert.deepEqual(validate(schema, doc), []);
    assert.deepEqual(doc.timers, [
      { signum: 18, kind: 'rb_timer', iterations: 3, fired: 0, interval: 0.5, next_in: 0.5 },
      { signum: 17, kind: 'timer', iterations: 0, fired: 0, interval: 2, next_in: 2 },
    ]);
    assert.deepEqual(doc.crons.map((c: { signum: number; next_in: number | null }) => [c.signum, c.next_in]), [[19, 4800], [22, (24 * 60 - 190) * 60], [21, null]]);
    assert.deepEqual(doc.crons[0], { signum: 19, minute: 30, hour: 4, day: -1, month: -1, weekday: -1, last: 0, next_in: 4800 });
    // The master's pass fires what is due; the next firings move on.
    now = T0 + 600;
    e.tick(now);
    doc = JSON.parse(renderStats(collectStats(engineStatsSources(e))));
    assert.deepEqual(doc.timers.map((t: { signum: number; fired: number; next_in: number }) => [t.signum, t.fired, t.next_in]), [[18, 1, 0.4], [17, 0, 1.4]]);
    e.stopScheduler();
  });

  test('nextCronFiring: now when this minute matches and it did not fire in the last minute, else the next matching minute', () => {
    const e = createEngine({});
    const ctx = e.uwsgi.ctx;
    const any = [-1, -1, -1, -1, -1] as const;
    assert.equal(nextCronFiring(ctx, any, 0, T0 + 5000), T0 + 5000);
    assert.equal(nextCronFiring(ctx, any, (T0 + 1000) / 1000, T0 + 5000), T0 + 60_000, 'fired 4 s ago: the next minute');
    assert.equal(nextCronFiring(ctx, [0, -2, -1, -1, -1], 0, T0), new Date(2030, 0, 15, 4, 0).getTime(), 'even hours');
    assert.equal(nextCronFiring(ctx, [0, 12, 1, -1, 0], 0, T0), new Date(2030, 0, 20, 12, 0).getTime(), 'day 1 OR Sunday: Sunday 20th comes first');
    assert.equal(nextCronFiring(ctx, [0, 0, 1, 3, -1], 0, T0), new Date(2030, 2, 1, 0, 0).getTime(), '1 March');
    assert.equal(nextCronFiring(ctx, [0, 0, 30, 2, -1], 0, T0), null);
  });

  test('cluster: the nodes of the master\'s node table, live or silent past the tolerance; no section outside a cluster', () => {
    assert.equal(collectStats(engineStatsSources(createEngine({}))).cluster, undefined);
    const e = createEngine({ cluster: '239.1.1.1:1717', 'cluster-tolerance': 30, socket: '127.0.0.1:3031' });
    const now = Date.now();
    const table = nodeTableOf(e.uwsgi.ctx);
    table.upsert({ name: '10.0.0.2:3031', nodename: 'b', workers: 4, load: 3, requests: 120, seen: now - 1000 });
    table.upsert({ name: '10.0.0.3:3031', nodename: 'c', workers: 2, load: 0, requests: 7, seen: now - 60_000 });
    const doc = JSON.parse(renderStats(collectStats(engineStatsSources(e))));
    assert.deepEqual(validate(schema, doc), []);
    assert.deepEqual(doc.cluster, {
      group: '239.1.1.1:1717',
      nodes: [
        { name: '10.0.0.2:3031', nodename: 'b', workers: 4, load: 3, requests: 120, last_seen: Math.floor((now - 1000) / 1000), live: true },
        { name: '10.0.0.3:3031', nodename: 'c', workers: 2, load: 0, requests: 7, last_seen: Math.floor((now - 60_000) / 1000), live: false },
      ],
    });
  });

  test('lock holders, signal handlers and queued signals, queue fill, mule and farm mailboxes, master log', async () => {
    const e = createEngine({ locks: 3, queue: 4, mules: 2, farm: 'f:1,2', workers: 1 });
    const u = e.uwsgi;
    const worker = e.attach('worker', 1);
    u.lock(2);
    worker.lock(3);
    u.queue_push('a'); u.queue_push('b'); u.queue_push('c'); u.queue_pull();
    u.mule_msg('to all'); u.mule_msg('to 2', 2); u.mule_msg('to 2 again', 2); u.farm_msg('f', 'farm');
    let handled = 0;
    worker.register_signal(30, 'worker1', () => { handled++; });
    worker.register_signal(31, 'mules', () => {});
    const signalLog: string[] = [];
    worker.onSignalLog = (l) => signalLog.push(l);
    const threads = () => [
      { kind: 'worker' as const, ident: 1, tid: worker.ctx.tid, state: 'running' as const, spawnedAt: 0, spawns: 1 },
      { kind: 'mule' as const, ident: 2, tid: -1, state: 'starting' as const, spawnedAt: 0, spawns: 0 },
    ];
    const sources = { ...engineStatsSources(e, threads), log: () => ['uwsgi-wasm: worker 1 died (code 1); respawning'] };
    worker.signal(30);
    worker.signal(30);
    worker.signal(31);                                              // no mule runs in this engine: lost
    let doc = JSON.parse(renderStats(collectStats(sources)));
    assert.deepEqual(validate(schema, doc), []);
    assert.deepEqual(doc.lock_holders, [{ lock: 'user 2', tid: 0, holder: 'master' }, { lock: 'user 3', tid: worker.ctx.tid, holder: 'worker 1' }]);
    assert.equal(doc.queue.used, 2);
    assert.deepEqual(doc.mule_mailbox, { slots: 8, shared: 1 });
    assert.deepEqual(doc.farms, [{ name: 'f', mules: [1, 2], queue: 1 }]);
    assert.deepEqual(doc.mules.map((m: { id: number; queue: number; farms: string[] }) => [m.id, m.queue, m.farms]), [[2, 2, ['f']]]);
    assert.deepEqual(doc.signals, [
      { signum: 30, target: 'worker1', handlers: ['worker 1'], queued: 2, raised: 2, delivered: 2, lost: 0 },
      { signum: 31, target: 'mules', handlers: ['worker 1'], queued: 0, raised: 1, delivered: 0, lost: 1 },
    ]);
    assert.deepEqual(signalLog, ['could not deliver signal 31 to the mules: none is running']);
    assert.equal(doc.workers[0].signal_queue, 2, "uWSGI's per-worker signal_queue: waiting in its mailbox");
    assert.deepEqual(doc.log, ['uwsgi-wasm: worker 1 died (code 1); respawning']);
    // The worker's event loop runs the handlers: nothing waits any more.
    for (let i = 0; i < 100 && handled < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(handled, 2);
    doc = JSON.parse(renderStats(collectStats(sources)));
    assert.equal(doc.signals[0].queued, 0);
    // A signal nobody registered is listed once raised (uWSGI hands it to a worker, which logs it).
    worker.signal(40);
    doc = JSON.parse(renderStats(collectStats(sources)));
    assert.deepEqual(validate(schema, doc), []);
    assert.deepEqual(doc.signals.map((s: { signum: number; target: string; raised: number }) => [s.signum, s.target, s.raised]), [[30, 'worker1', 2], [31, 'mules', 1], [40, 'none', 1]]);
    assert.equal(doc.workers[0].signal_queue, 0);
    assert.equal(doc.workers[0].signals, 2);
    worker.unlock(3);
    u.unlock(2);
    assert.deepEqual(collectStats(sources).lock_holders, []);
  });

  test("a worker's last response time (ours) beside uWSGI's avg_rt", async () => {
    const e = createEngine({ workers: 1 });
    const worker = e.attach('worker', 1);
    await worker.accounted(() => new Promise((r) => setTimeout(r, 30)));
    const c = statusTableCounters(e)(1)!;
    assert.ok(c.last_rt! >= 25_000 && c.last_rt! < 5_000_000, `last_rt ${c.last_rt} µs`);
    assert.equal(c.requests, 1);
  });

  test('spoolers: tasks waiting and runs that failed (ours) beside uWSGI\'s tasks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-spool-'));
    try {
      const e = createEngine({ spooler: dir });
      e.uwsgi.spool({ n: '1' });
      e.uwsgi.spool({ n: '2' }, { priority: 3 });
      const spoolers = () => collectStats(engineStatsSources(e)).spoolers as Array<{ tasks: number; failed: number; waiting: number }>;
      assert.deepEqual(spoolers().map((s) => [s.tasks, s.failed, s.waiting]), [[0, 0, 2]]);
      const sp = e.attach('spooler', 1);
      let ok = false;
      sp.spooler = () => (ok ? sp.SPOOL_OK : sp.SPOOL_RETRY);
      await new SpoolerLoop(sp).pass();
      assert.deepEqual(spoolers().map((s) => [s.tasks, s.failed, s.waiting]), [[2, 2, 2]]);
      ok = true;
      await new SpoolerLoop(sp).pass();
      assert.deepEqual(spoolers().map((s) => [s.tasks, s.failed, s.waiting]), [[4, 2, 0]]);
      assert.deepEqual(validate(schema, JSON.parse(renderStats(collectStats(engineStatsSources(e))))), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stats server', () => {
  test('plain TCP: the JSON is written on connect, then the connection closes (uwsgitop reads it)', async () => {
    const m = await master();
    try {
      const port = m.services.stats!.port!;
      m.uwsgi.cache_get('nothing');
      const doc = JSON.parse(await readAll({ port, host: '127.0.0.1' }));
      assert.deepEqual(validate(schema, doc), []);
      assert.equal(doc.caches[0].miss, 1);
      m.uwsgi.cache_get('nothing');
      assert.equal(JSON.parse(await readAll({ port, host: '127.0.0.1' })).caches[0].miss, 2, 'each connection reads live numbers');
      // What uwsgitop reads from each worker.
      for (const k of ['id', 'pid', 'requests', 'exceptions', 'status', 'rss', 'vsz', 'running_time', 'avg_rt', 'tx', 'respawn_count', 'harakiri_count', 'last_spawn', 'signals']) {
        assert.ok(k in doc.workers[0], k);
      }
    } finally {
      await m.stop();
    }
    const again = await new Promise<boolean>((r) => { const c = net.connect(1, '127.0.0.1'); c.on('error', () => r(false)); c.on('connect', () => { c.destroy(); r(true); }); });
    assert.equal(again, false);
  }, 60_000);

  test('--stats-http: JSON with uWSGI\'s headers on any path, the dashboard page at /dashboard', async () => {
    const m = await master({ 'stats-http': true, 'stats-minified': true });
    try {
      const base = `http://127.0.0.1:${m.services.stats!.port}`;
      const r = await fetch(`${base}/`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      const text = await r.text();
      assert.ok(!text.includes('\n'), 'minified');
      assert.deepEqual(validate(schema, JSON.parse(text)), []);
      const page = await fetch(`${base}/dashboard`);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const html = await page.text();
      assert.match(html, /<title>uwsgi-wasm dashboard<\/title>/);
      assert.ok(!/src=["']https?:|href=["']https?:/.test(html), 'no external asset');
    } finally {
      await m.stop();
    }
  }, 60_000);

  test('a UNIX socket path; a client that sends nothing over HTTP is dropped, others still served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-stats-'));
    const path = join(dir, 'stats.sock');
    try {
      const e = createEngine({ cache2: 'name=default,items=4' });
      const server = await startStatsServer({ engine: e }, { address: { path } });
      assert.equal(server.port, undefined);
      const doc = JSON.parse(await readAll({ path }));
      assert.deepEqual(validate(schema, doc), []);
      await server.close();
      assert.equal(existsSync(path), false, 'the socket file is removed on close');

      const http = await startStatsServer({ engine: e }, { address: { host: '127.0.0.1', port: 0 }, http: true });
      try {
        const silent = net.connect(http.port!, '127.0.0.1');
        const closed = new Promise<void>((r) => silent.on('close', () => r()));
        silent.on('error', () => {});
        const r = await fetch(`http://127.0.0.1:${http.port}/anything`);
        assert.equal((await r.json()).version, '2.0.21-uwsgi-wasm');
        await closed;
      } finally {
        await http.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
