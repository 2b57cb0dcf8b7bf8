import { createEngine, type Uwsgi } from 'uwsgi-wasm';
import { raiseSignal } from 'uwsgi-wasm/engine';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';

/** Let handlers queued in this JS thread run (they run in microtasks after the sender). */
const settle = () => new Promise((r) => setTimeout(r, 0));

/** An engine with 2 workers, 2 mules in a farm, and views acting as each of them in this thread. */
function engineWithViews() {
  const engine = createEngine({ workers: 2, mules: 2, farm: 'pair:1,2', locks: 1 });
  const views = { w1: engine.attach('worker', 1), w2: engine.attach('worker', 2), m1: engine.attach('mule', 1), m2: engine.attach('mule', 2) };
  const runs: string[] = [];
  const quiet: string[] = [];
  for (const [name, v] of Object.entries(views)) v.onSignalLog = (l) => quiet.push(`${name}: ${l}`);
  engine.uwsgi.onSignalLog = (l) => quiet.push(`master: ${l}`);
  engine.scheduler.log = (l) => quiet.push(`scheduler: ${l}`);
  const on = (name: keyof typeof views, num: number, who: string) => views[name].register_signal(num, who, (n: number) => { runs.push(`${name}:${n}`); });
  return { engine, views, runs, quiet, on };
}

describe('signals', () => {
  test('register_signal, signal_registered and signal return what uWSGI returns', () => {
    const { engine, views } = engineWithViews();
    assert.equal(views.w1.signal_registered(17), null);
    assert.equal(views.w1.register_signal(17, 'worker', () => {}), undefined);
    assert.equal(views.w1.signal_registered(17), true);
    // A worker's registration is its own.
    assert.equal(views.w2.signal_registered(17), null);
    assert.equal(views.w1.signal(17), undefined);
    assert.equal(views.w1.signal(40), undefined); // unregistered: routed, logged by the worker
    // The master's registration is inherited by the views of the same JS thread, as forked workers inherit it.
    engine.uwsgi.register_signal(20, 'workers', () => {});
    assert.equal(views.w2.signal_registered(20), true);
    throwsUwsgi(() => engine.uwsgi.register_signal(20, 'workers', () => {}), 'ERR_EXISTS', /master registered this signal/);
    // A worker may register again.
    views.w1.register_signal(17, 'workers', () => {});
    assert.equal(views.w1.signal_registered(17), true);
  });

  test('each target runs the handler in the right views', async () => {
    const { views, runs, on } = engineWithViews();
    const targets: Record<number, string> = { 1: '', 2: 'workers', 3: 'worker2', 4: 'active-workers', 5: 'mule', 6: 'mules', 7: 'mule1', 8: 'farm_pair', 9: 'farm1', 10: 'mule0' };
    for (const v of ['w1', 'w2', 'm1', 'm2'] as const) for (const [n, who] of Object.entries(targets)) on(v, Number(n), who);
    for (const n of Object.keys(targets)) views.w1.signal(Number(n));
    await settle();
    const who = (n: number) => runs.filter((r) => r.endsWith(`:${n}`)).map((r) => r.split(':')[0]).sort();
    assert.equal(who(1).length, 1); assert.ok(who(1)[0].startsWith('w'));
    assert.deepEqual(who(2), ['w1', 'w2']);
    assert.deepEqual(who(3), ['w2']);
    assert.deepEqual(who(4), ['w1', 'w2']);
    assert.equal(who(5).length, 1); assert.ok(who(5)[0].startsWith('m'));
    assert.deepEqual(who(6), ['m1', 'm2']);
    assert.deepEqual(who(7), ['m1']);
    for (const n of [8, 9, 10]) { assert.equal(who(n).length, 1, `signal ${n}`); assert.ok(who(n)[0].startsWith('m')); }
    // First available spreads repeated signals over the workers that can run them.
    runs.length = 0;
    for (let i = 0; i < 4; i++) views.m1.signal(1);
    await settle();
    assert.deepEqual(who(1), ['w1', 'w1', 'w2', 'w2']);
  });

  test('first available prefers a worker that registered the handler; an unregistered signal is logged by a worker', async () => {
    const { views, runs, quiet, on } = engineWithViews();
    on('w2', 30, '');
    for (let i = 0; i < 3; i++) views.w1.signal(30);
    views.w1.signal(41);
    await settle();
    assert.deepEqual(runs, ['w2:30', 'w2:30', 'w2:30']);
    assert.ok(quiet.some((l) => /error managing signal 41 on worker [12]/.test(l)), quiet.join('\n'));
  });

  test('the standalone engine (no master, no worker thread) runs worker signals itself', async () => {
    const engine = createEngine();
    const got: number[] = [];
    engine.uwsgi.register_signal(5, '', (n) => { got.push(n); });
    engine.uwsgi.register_signal(6, 'workers', (n) => { got.push(n); });
    engine.uwsgi.signal(5);
    engine.uwsgi.signal(6);
    assert.deepEqual(got, [], 'handlers run after the sender returns');
    await settle();
    assert.deepEqual(got.sort(), [5, 6]);
    assert.equal(raiseSignal(engine, 5), true);
    await settle();
    assert.equal(got.length, 3);
  });

  test('signal_wait resolves after a signal was handled; signal_received tells which', async () => {
    const { views, runs, quiet, on } = engineWithViews();
    on('w1', 50, 'worker1');
    assert.equal(views.w1.signal_received(), 0);
    const any = views.w1.signal_wait();
    assert.equal(views.w1.signal_received(), -1);
    views.w2.signal(50);
    assert.deepEqual(await any, new Uint8Array(0));
    assert.deepEqual(runs, ['w1:50']);
    assert.equal(views.w1.signal_received(), 50);
    // With a number: other signals are handled, the wait goes on until that one.
    const only = views.w1.signal_wait(51);
    let done = false;
    void only.then(() => { done = true; });
    views.w2.signal(50);
    await settle();
    assert.equal(done, false);
    assert.deepEqual(runs, ['w1:50', 'w1:50']);
    views.w1.signal(51); // unregistered: a worker that waits for it is preferred, and takes it quietly
    await only;
    assert.equal(views.w1.signal_received(), 51);
    assert.ok(!quiet.some((l) => /signal 51/.test(l)), quiet.join('\n'));
  });

  test('a handler that throws is logged and the thread goes on; a dead thread loses its handlers', async () => {
    const { engine, views, quiet } = engineWithViews();
    let after = 0;
    views.w1.register_signal(60, 'worker1', () => { throw new Error('boom'); });
    views.w1.register_signal(61, 'worker1', () => { after++; });
    views.w2.signal(60); views.w2.signal(61);
    await settle();
    assert.equal(after, 1);
    assert.ok(quiet.some((l) => /signal 60 handler failed on worker 1: .*boom/.test(l)), quiet.join('\n'));
    const extra = engine.attach('embedded', 0);
    extra.register_signal(62, 'workers', () => {});
    assert.equal(extra.signal_registered(62), true);
    const tid = extra.ctx.tid;
    engine.threadExited(tid);
    const again = engine.attach('embedded', 0);
    assert.equal(again.ctx.tid, tid, 'the slot is reused');
    assert.equal(again.signal_registered(62), null);
  });

  test('bad input: typed errors naming the argument', async () => {
    const { engine, views } = engineWithViews();
    const u: Uwsgi = views.w1;
    const f = () => {};
    throwsUwsgi(() => u.register_signal(256, 'worker', f), 'ERR_VALUE_RANGE', /signum must be 0\.\.255, got 256 \(uWSGI would silently use 0\)/);
    throwsUwsgi(() => u.register_signal(-1, 'worker', f), 'ERR_VALUE_RANGE', /got -1 \(uWSGI would silently use 255\)/);
    throwsUwsgi(() => u.signal(256), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => u.signal_registered(-1), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => u.register_signal('1' as unknown as number, 'worker', f), 'ERR_ARG_TYPE', /signum must be an integer/);
    throwsUwsgi(() => u.register_signal(1, 'bogus', f), 'ERR_NOT_FOUND', /unknown signal target 'bogus'/);
    throwsUwsgi(() => u.register_signal(1, 'farms', f), 'ERR_NOT_FOUND');
    throwsUwsgi(() => u.register_signal(1, 'worker3', f), 'ERR_NOT_FOUND', /workers are 1\.\.2/);
    throwsUwsgi(() => u.register_signal(1, 'mule3', f), 'ERR_NOT_FOUND');
    throwsUwsgi(() => u.register_signal(1, 'farm_nope', f), 'ERR_NOT_FOUND', /no farm named 'nope'/);
    throwsUwsgi(() => u.register_signal(1, 'cluster', f), 'ERR_UNSUPPORTED', /not supported/);
    throwsUwsgi(() => u.register_signal(1, 'subscribed', f), 'ERR_UNSUPPORTED', /not supported/);
    throwsUwsgi(() => u.register_signal(1, 7 as unknown as string, f), 'ERR_ARG_TYPE', /who must be a string/);
    throwsUwsgi(() => u.register_signal(1, 'worker', 'f' as unknown as () => void), 'ERR_ARG_TYPE', /handler must be a function, got string/);
    throwsUwsgi(() => (u.register_signal as (...a: unknown[]) => void)(1, 'worker'), 'ERR_ARG_COUNT', /takes exactly 3 arguments \(2 given\)/);
    throwsUwsgi(() => (u.signal as (...a: unknown[]) => void)(), 'ERR_ARG_COUNT');
    // A remote node is the network client's: a promise, rejected when nothing listens there.
    const remote = u.signal(1, '127.0.0.1:1');
    assert.ok(remote instanceof Promise, 'a remote signal is a promise');
    await rejectsUwsgi(remote, 'ERR_CONNECT');
    assert.equal(u.signal_registered(1), null, 'nothing was registered by the refused calls');
    // Timers and cron.
    throwsUwsgi(() => u.add_timer(1, 0), 'ERR_VALUE_RANGE', /seconds must be at least/);
    throwsUwsgi(() => u.add_timer(1, -5), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => u.add_timer(1, Infinity), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => u.add_timer(1, '1' as unknown as number), 'ERR_ARG_TYPE', /seconds must be a number/);
    throwsUwsgi(() => u.add_timer(300, 1), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => u.add_rb_timer(1, 1, -1), 'ERR_VALUE_RANGE', /iterations/);
    throwsUwsgi(() => u.add_rb_timer(1, 1, 1.5), 'ERR_ARG_TYPE', /iterations must be an integer/);
    throwsUwsgi(() => u.add_cron(1, 60, -1, -1, -1, -1), 'ERR_VALUE_RANGE', /minute must be .* got 60/);
    throwsUwsgi(() => u.add_cron(1, -1, 24, -1, -1, -1), 'ERR_VALUE_RANGE', /hour/);
    throwsUwsgi(() => u.add_cron(1, -1, -1, 0, -1, -1), 'ERR_VALUE_RANGE', /day/);
    throwsUwsgi(() => u.add_cron(1, -1, -1, 32, -1, -1), 'ERR_VALUE_RANGE', /day/);
    throwsUwsgi(() => u.add_cron(1, -1, -1, -1, 13, -1), 'ERR_VALUE_RANGE', /month/);
    throwsUwsgi(() => u.add_cron(1, -1, -1, -1, -13, -1), 'ERR_VALUE_RANGE', /month/);
    throwsUwsgi(() => u.add_cron(1, -1, -1, -1, -1, 8), 'ERR_VALUE_RANGE', /weekday/);
    throwsUwsgi(() => u.add_cron(1, -1, -1, -1, -1, 'x' as unknown as number), 'ERR_ARG_TYPE', /weekday must be an integer/);
    throwsUwsgi(() => (u.add_cron as (...a: unknown[]) => void)(1, -1, -1), 'ERR_ARG_COUNT');
    throwsUwsgi(() => u.add_file_monitor(1, '/no/such/path/here'), 'ERR_NOT_FOUND');
    throwsUwsgi(() => u.add_file_monitor(1, ''), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => u.add_file_monitor(1, `/${'x'.repeat(300)}`), 'ERR_BOUNDS', /at most 254/);
    throwsUwsgi(() => u.add_probe(), 'ERR_UNSUPPORTED', /removed in uWSGI 2\.0/);
    // 64 timers of each kind, as uWSGI.
    for (let i = 0; i < 64; i++) u.add_timer(1, 100);
    throwsUwsgi(() => u.add_timer(1, 100), 'ERR_FULL', /64 timers/);
    for (let i = 0; i < 64; i++) u.add_rb_timer(1, 100);
    throwsUwsgi(() => u.add_rb_timer(1, 100), 'ERR_FULL');
    for (let i = 0; i < 64; i++) assert.equal(u.add_cron(1, -1, -1, -1, -1, -1), true);
    throwsUwsgi(() => u.add_cron(1, -1, -1, -1, -1, -1), 'ERR_FULL');
    engine.stopScheduler();
  });
});

describe('timers and cron (fake clock)', () => {
  /** A fresh engine at local time `at`, a handler counting signal 9, and a way to move the clock. */
  function clocked(at: Date) {
    const engine = createEngine();
    let now = at.getTime();
    engine.setClock(() => now);
    engine.stopScheduler(); // the test drives every pass with engine.tick()
    let runs = 0;
    engine.uwsgi.register_signal(9, '', () => { runs++; });
    return { engine, u: engine.uwsgi, runs: () => runs, at: (d: Date) => { now = d.getTime(); }, advance: (ms: number) => { now += ms; } };
  }

  // [minute, hour, day, month, weekday], a local time, whether it fires.
  const CASES: Array<[string, [number, number, number, number, number], Date, boolean]> = [
    ['every field any', [-1, -1, -1, -1, -1], new Date(2024, 4, 17, 13, 42), true],
    ['minute -5 on a multiple of 5', [-5, -1, -1, -1, -1], new Date(2024, 4, 17, 10, 15), true],
    ['minute -5 off it', [-5, -1, -1, -1, -1], new Date(2024, 4, 17, 10, 17), false],
    ['hour -2 on an even hour', [0, -2, -1, -1, -1], new Date(2024, 4, 17, 14, 0), true],
    ['hour -2 on an odd hour', [0, -2, -1, -1, -1], new Date(2024, 4, 17, 13, 0), false],
    ['exact minute and hour', [30, 10, -1, -1, -1], new Date(2024, 4, 17, 10, 30), true],
    ['exact minute, next minute', [30, 10, -1, -1, -1], new Date(2024, 4, 17, 10, 31), false],
    ['month -2: February is even', [-1, -1, -1, -2, -1], new Date(2024, 1, 10, 0, 0), true],
    ['month -2: March is odd', [-1, -1, -1, -2, -1], new Date(2024, 2, 10, 0, 0), false],
    ['day -2 on the 28th', [-1, -1, -2, -1, -1], new Date(2024, 1, 28, 0, 0), true],
    ['day -2 on the leap day (29th, odd)', [-1, -1, -2, -1, -1], new Date(2024, 1, 29, 0, 0), false],
    ['day 29 of February in a leap year', [0, 0, 29, 2, -1], new Date(2024, 1, 29, 0, 0), true],
    ['day 29 of February: 2023 has none, 1 March is not it', [0, 0, 29, 2, -1], new Date(2023, 2, 1, 0, 0), false],
    ['day 31 on 31 January', [0, 0, 31, -1, -1], new Date(2024, 0, 31, 0, 0), true],
    ['day 31 on the month end 30 April', [0, 0, 31, -1, -1], new Date(2024, 3, 30, 0, 0), false],
    ['day 1 OR Monday: a Monday the 15th', [0, 0, 1, -1, 1], new Date(2024, 0, 15, 0, 0), true],
    ['day 1 OR Monday: Thursday the 1st', [0, 0, 1, -1, 1], new Date(2024, 1, 1, 0, 0), true],
    ['day 1 OR Monday: Tuesday the 16th', [0, 0, 1, -1, 1], new Date(2024, 0, 16, 0, 0), false],
    ['no OR when day is -1: Monday', [0, 0, -1, -1, 1], new Date(2024, 0, 15, 0, 0), true],
    ['no OR when day is -1: Tuesday', [0, 0, -1, -1, 1], new Date(2024, 0, 16, 0, 0), false],
    ['no OR when weekday is -1: the 1st', [0, 0, 1, -1, -1], new Date(2024, 1, 1, 0, 0), true],
    ['no OR when weekday is -1: a Monday the 15th', [0, 0, 1, -1, -1], new Date(2024, 0, 15, 0, 0), false],
    ['no OR when day is -N: Monday the 15th (odd day)', [0, 0, -2, -1, 1], new Date(2024, 0, 15, 0, 0), false],
    ['weekday 7 is Sunday', [0, 0, -1, -1, 7], new Date(2024, 0, 14, 0, 0), true],
    ['weekday 0 is Sunday', [0, 0, -1, -1, 0], new Date(2024, 0, 14, 0, 0), true],
    ['weekday -2: Sunday (0)', [0, 0, -1, -1, -2], new Date(2024, 0, 14, 0, 0), true],
    ['weekday -2: Tuesday (2)', [0, 0, -1, -1, -2], new Date(2024, 0, 16, 0, 0), true],
    ['weekday -2: Monday (1)', [0, 0, -1, -1, -2], new Date(2024, 0, 15, 0, 0), false],
    ['Dec 31 23:59 with month 12 day 31', [59, 23, 31, 12, -1], new Date(2024, 11, 31, 23, 59), true],
    ['Jan 1 with month -12 (December only)', [-1, -1, -1, -12, -1], new Date(2025, 0, 1, 0, 0), false],
  ];
  for (const [name, f, when, fires] of CASES) {
    test(`cron: ${name}`, async () => {
      const c = clocked(new Date(when.getTime() + 20_000));
      assert.equal(c.u.add_cron(9, ...f), true);
      assert.equal(c.engine.tick(), fires ? 1 : 0);
      await settle();
      assert.equal(c.runs(), fires ? 1 : 0);
    });
  }

  test('cron fires at most once a minute, at once when added mid-minute', () => {
    const c = clocked(new Date(2024, 4, 17, 10, 0, 10));
    c.u.add_cron(9, -1, -1, -1, -1, -1);
    assert.equal(c.engine.tick(), 1);
    c.advance(40_000); // 10:00:50
    assert.equal(c.engine.tick(), 0);
    c.advance(20_000); // 10:01:10
    assert.equal(c.engine.tick(), 1);
    c.advance(59_000);
    assert.equal(c.engine.tick(), 0);
    c.advance(1_000);
    assert.equal(c.engine.tick(), 1);
  });

  test('add_rb_timer fires `iterations` times, then frees its slot; add_timer fires forever', async () => {
    const c = clocked(new Date(2024, 4, 17, 10, 0, 0));
    c.u.add_rb_timer(9, 10, 3);
    assert.equal(c.engine.tick(), 0, 'not before its first interval');
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) { c.advance(10_000); fired.push(c.engine.tick()); }
    assert.deepEqual(fired, [1, 1, 1, 0, 0]);
    await settle();
    assert.equal(c.runs(), 3);
    // Its slot is free again: 64 more rb timers fit.
    for (let i = 0; i < 64; i++) c.u.add_rb_timer(9, 1000, 1);
    const d = clocked(new Date(2024, 4, 17, 10, 0, 0));
    d.u.add_timer(9, 2);
    let total = 0;
    for (let i = 0; i < 10; i++) { d.advance(2_000); total += d.engine.tick(); }
    assert.equal(total, 10);
    // A timer late by many intervals fires once and is rescheduled from now.
    d.advance(60_000);
    assert.equal(d.engine.tick(), 1);
    d.advance(1_000);
    assert.equal(d.engine.tick(), 0);
    d.advance(1_000);
    assert.equal(d.engine.tick(), 1);
  });

  test('a timer added by a worker view is fired by the master; rb timers with iterations 0 never stop', async () => {
    const engine = createEngine({ workers: 1 });
    let now = Date.UTC(2024, 0, 1);
    engine.setClock(() => now);
    engine.stopScheduler();
    const w = engine.attach('worker', 1);
    const got: number[] = [];
    w.register_signal(12, 'worker1', (n) => { got.push(n); });
    w.add_rb_timer(12, 0.5);
    for (let i = 0; i < 100; i++) { now += 500; engine.tick(); }
    await settle();
    assert.equal(got.length, 100);
  });
});

describe('file monitors', () => {
  test('add_file_monitor raises its signal when the file changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-mon-'));
    const file = join(dir, 'watched.txt');
    writeFileSync(file, 'a');
    try {
      const engine = createEngine({ workers: 1 });
      const w = engine.attach('worker', 1);
      let runs = 0;
      w.register_signal(33, 'worker1', () => { runs++; });
      w.add_file_monitor(33, file);
      engine.tick(); // the master sets the watch up on its next pass
      await new Promise((r) => setTimeout(r, 50));
      const until = Date.now() + 10_000;
      let n = 0;
      while (runs === 0 && Date.now() < until) {
        writeFileSync(file, `change ${n++}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(runs > 0, 'the handler ran after the file changed');
      engine.stopScheduler();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
