import { createEngine, RequestScope } from 'uwsgi-wasm';
import { runtime } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('process: request accounting', () => {
  test('requests, delta_requests, tx, avg_rt, running_time, exceptions and request_id', async () => {
    const e = createEngine({ workers: 2 });
    const w1 = e.attach('worker', 1);
    const w2 = e.attach('worker', 2);
    assert.equal(w1.total_requests(), 0);
    assert.equal(w1.request_id(), 0, 'outside a request: the next request id');
    const a = w1.request_begin({ cl: 5 });
    assert.ok(a instanceof RequestScope);
    assert.equal(w1.request_id(), 0);
    assert.equal(w1.cl(), 5);
    assert.equal(text(w1.workers()[0].status), 'busy', 'a worker in a request sees itself busy');
    a.sent(100);
    await sleep(5);
    w1.request_end({ tx: 20 });
    assert.equal(w1.cl(), 0);
    assert.equal(w1.total_requests(), 1);
    const r = w1.workers()[0];
    assert.equal(r.requests, 1);
    assert.equal(r.delta_requests, 1);
    assert.equal(r.tx, 120);
    assert.ok(r.running_time >= 4000, `running_time ${r.running_time} µs`);
    assert.equal(r.avg_rt, r.running_time, 'the first request is the average');
    assert.equal(text(r.status), 'idle');
    // A second request: the average moves half way (uWSGI's (avg + rt) / 2).
    const b = w1.request_begin();
    assert.equal(b.id, 1);
    b.end({ exception: true });
    const r2 = w1.workers()[0];
    assert.equal(r2.requests, 2);
    assert.equal(r2.exceptions, 1);
    assert.ok(Math.abs(r2.avg_rt - Math.floor((r.avg_rt + (r2.running_time - r.running_time)) / 2)) <= 1, `avg_rt ${r2.avg_rt}`);
    // Worker 2 counts separately; the totals add up; the master sees them too.
    await w2.accounted(() => undefined);
    assert.equal(w2.workers()[1].requests, 1);
    assert.equal(e.uwsgi.total_requests(), 3);
    assert.equal(w2.request_id(), 1);
  });

  test('overlapping requests in one thread keep their own id, cl and logvars (accounted)', async () => {
    const e = createEngine({});
    const w = e.attach('worker', 1);
    const seen: Array<[number, number, string | null]> = [];
    const one = (n: number, ms: number) => w.accounted(async (req) => {
      w.set_logvar('who', `req${n}`);
      await sleep(ms);
      seen.push([w.request_id(), w.cl(), text(w.get_logvar('who'))]);
      req.sent(n);
    }, { cl: n * 10 });
    await Promise.all([one(1, 20), one(2, 5), one(3, 10)]);
    seen.sort((x, y) => x[0] - y[0]);
    assert.deepEqual(seen, [[0, 10, 'req1'], [1, 20, 'req2'], [2, 30, 'req3']]);
    assert.equal(w.workers()[0].tx, 6);
    assert.equal(w.total_requests(), 3);
    assert.equal(w.get_logvar('who'), null, 'request logvars end with their request');
  });

  test('an exception in accounted is counted and rethrown', async () => {
    const w = createEngine({}).attach('worker', 1);
    await assert.rejects(w.accounted(() => { throw new Error('boom'); }), /boom/);
    assert.equal(w.workers()[0].exceptions, 1);
    assert.equal(w.workers()[0].requests, 1);
  });

  test('bad use is a typed error', async () => {
    const w = createEngine({}).attach('worker', 1);
    throwsUwsgi(() => w.request_end(), 'ERR_NOT_FOUND', /no request in progress/);
    throwsUwsgi(() => w.request_begin({ cl: -1 }), 'ERR_VALUE_RANGE', /info.cl/);
    throwsUwsgi(() => w.request_begin('x' as never), 'ERR_ARG_TYPE', /info must be an object/);
    const s = w.request_begin();
    throwsUwsgi(() => s.end({ tx: 1.5 }), 'ERR_ARG_TYPE', /result.tx must be an integer/);
    s.end();
    throwsUwsgi(() => s.end(), 'ERR_NOT_FOUND', /already ended/);
    await rejectsUwsgi(w.accounted(42 as never), 'ERR_ARG_TYPE', /fn must be a function/);
    throwsUwsgi(() => w.total_requests(1 as never), 'ERR_ARG_COUNT');
  });

  test('the master thread and embedded threads count in the totals only', () => {
    const e = createEngine({});
    e.uwsgi.request_begin();
    e.uwsgi.request_end();
    assert.equal(e.uwsgi.total_requests(), 1);
    assert.equal(e.uwsgi.workers()[0].requests, 0);
  });
});

describe('process: workers() and control', () => {
  test("workers() has uWSGI's keys and types", () => {
    const e = createEngine({ workers: 3 });
    const list = e.uwsgi.workers();
    assert.ok(Array.isArray(list));
    assert.equal(list.length, 3);
    assert.deepEqual(list.map((w) => w.id), [1, 2, 3]);
    const keys = ['id', 'pid', 'requests', 'delta_requests', 'signals', 'exceptions', 'status', 'rss', 'vsz', 'running_time', 'last_spawn', 'respawn_count', 'tx', 'avg_rt', 'apps'];
    for (const w of list) {
      assert.deepEqual(Object.keys(w), keys);
      for (const k of keys) {
        if (k === 'status') assert.ok(w.status instanceof Uint8Array);
        else if (k === 'apps') assert.ok(Array.isArray(w.apps));
        else assert.equal(typeof (w as unknown as Record<string, unknown>)[k], 'number', k);
      }
      assert.equal(text(w.status), 'idle');
      assert.equal(w.respawn_count, 0);
    }
  });

  test('worker_id, mule_id, i_am_the_spooler, ready, accepting, is_a_reload, reload/stop without a master', () => {
    const e = createEngine({ workers: 1, mules: 1 });
    const w = e.attach('worker', 1);
    const m = e.attach('mule', 1);
    const s = e.attach('spooler', 1);
    assert.deepEqual([w.worker_id(), w.mule_id(), m.worker_id(), m.mule_id(), e.uwsgi.worker_id()], [1, 0, 0, 1, 0]);
    assert.deepEqual([w.i_am_the_spooler(), s.i_am_the_spooler()], [null, true]);
    assert.equal(w.ready(), true, 'no master: ready at once');
    assert.equal(w.accepting(0), undefined);
    assert.equal(w.is_a_reload, false);
    assert.equal(w.reload(), null, 'no master to reload');
    assert.equal(w.stop(), null);
    assert.equal(e.uwsgi.masterpid(), runtime().pid());
    assert.ok(Number.isInteger(e.uwsgi.numproc) && Number.isInteger(e.uwsgi.started_on));
  });

  test('set_user_harakiri validates its argument; without a master it does nothing', () => {
    const w = createEngine({}).attach('worker', 1);
    throwsUwsgi(() => w.set_user_harakiri(-1), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => w.set_user_harakiri('1' as never), 'ERR_ARG_TYPE');
    const logs: string[] = [];
    const orig = console.error;
    console.error = (l: string) => { logs.push(l); };
    try { w.set_user_harakiri(1); } finally { console.error = orig; }
    assert.ok(logs.some((l) => /without the master/.test(l)), logs.join('\n'));
  });

  test('the harakiri option is validated', () => {
    throwsUwsgi(() => createEngine({ harakiri: 'soon' }), 'ERR_OPTION', /harakiri/);
  });
});

describe('process: logging', () => {
  test('logvars per request and per thread outside requests', () => {
    const w = createEngine({}).attach('worker', 1);
    assert.equal(w.get_logvar('k'), null);
    assert.equal(w.set_logvar('k', 'outside'), undefined);
    w.request_begin();
    assert.equal(w.get_logvar('k'), null, 'a request starts with no logvars');
    w.set_logvar('k', 'v');
    w.set_logvar(new TextEncoder().encode('k'), 'w');
    assert.equal(text(w.get_logvar('k')), 'w');
    assert.equal(w.log_this_request(), undefined);
    w.request_end();
    assert.equal(text(w.get_logvar('k')), 'outside');
    w.set_logvar('', 'x'); // an empty key is a key, as in uWSGI
    assert.equal(text(w.get_logvar('')), 'x');
    // uWSGI keeps logvar lengths in one byte: 255 bytes fit, more is refused (uWSGI wraps them).
    w.set_logvar('k'.repeat(255), 'v'.repeat(255));
    throwsUwsgi(() => w.set_logvar('k'.repeat(256), 'v'), 'ERR_VALUE_RANGE', /255 bytes/);
    throwsUwsgi(() => w.set_logvar('k', 'v'.repeat(256)), 'ERR_VALUE_RANGE', /255 bytes/);
    throwsUwsgi(() => w.set_logvar('k', 5 as never), 'ERR_ARG_TYPE', /value must be a string or Uint8Array/);
  });

  test('log_this_request marks the current request', () => {
    const w = createEngine({}).attach('worker', 1);
    const s = w.request_begin();
    assert.equal(s.logThis, false);
    w.log_this_request();
    assert.equal(s.logThis, true);
    s.end();
  });

  test('log() writes to the --logto file and logsize() counts its bytes', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = `${fs.mkdtempSync(`${os.tmpdir()}/uwsgi-wasm-log-`)}/app.log`;
    const e = createEngine({ logto: path });
    const w = e.attach('worker', 1);
    assert.equal(w.logsize(), 0);
    assert.equal(w.log('hello'), true);
    e.uwsgi.log(new TextEncoder().encode('héllo'));
    assert.equal(fs.readFileSync(path, 'utf8'), 'hello\nhéllo\n');
    assert.equal(w.logsize(), 6 + 7);
    assert.equal(e.uwsgi.logsize(), 13, 'the size is shared by every thread');
    throwsUwsgi(() => w.log(3 as never), 'ERR_ARG_TYPE');
    assert.equal(createEngine({}).uwsgi.logsize(), 0, 'stderr logging has no size');
  });

  test('set_warning_message, setprocname, has_hook, cl, sorry_i_need_to_block, mem', () => {
    const e = createEngine({});
    const w = e.attach('worker', 1);
    assert.equal(w.set_warning_message('disk almost full'), true);
    throwsUwsgi(() => w.set_warning_message('x'.repeat(129)), 'ERR_BOUNDS', /129 bytes; at most 128/);
    assert.equal(w.setprocname('uwsgi worker 1'), undefined);
    throwsUwsgi(() => w.setprocname(1 as never), 'ERR_ARG_TYPE');
    assert.deepEqual([w.has_hook(0), w.has_hook(173), w.has_hook(7)], [true, true, null]);
    throwsUwsgi(() => w.has_hook(256), 'ERR_VALUE_RANGE');
    assert.equal(w.cl(), 0);
    assert.equal(w.sorry_i_need_to_block(), undefined);
    const [rss, vsz] = w.mem();
    assert.ok(rss > 0 && vsz >= 0);
  });
});

describe('process: async helpers', () => {
  test('async_sleep, suspend, green_schedule resolve without blocking', async () => {
    const w = createEngine({}).attach('worker', 1);
    let ticked = false;
    setTimeout(() => { ticked = true; }, 0);
    const t0 = Date.now();
    assert.equal(await w.async_sleep(0.02), undefined);
    assert.ok(Date.now() - t0 >= 15);
    assert.ok(ticked, 'the event loop ran during the sleep');
    assert.equal(await w.suspend(), true);
    assert.equal(await w.green_schedule(), true);
    throwsUwsgi(() => w.async_sleep(-1), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => w.async_sleep('1' as never), 'ERR_ARG_TYPE');
  });

  test('wait_fd_read / wait_fd_write on a socket; raw fds name the runtime', async () => {
    const net = await import('node:net');
    const w = createEngine({}).attach('worker', 1);
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const accepted = new Promise<import('node:net').Socket>((r) => server.once('connection', r));
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
    const peer = await accepted;
    try {
      assert.equal(await w.wait_fd_write(client, 1), true, 'a connected socket is writable');
      assert.equal(await w.wait_fd_read(peer, 0.05), false, 'nothing to read: times out');
      const ready = w.wait_fd_read(peer, 5);
      client.write('ping');
      assert.equal(await ready, true);
      assert.equal(String(peer.read()), 'ping', 'the data is still there to read');
      throwsUwsgi(() => w.wait_fd_read(0), 'ERR_UNSUPPORTED', new RegExp(`${runtime().name} cannot wait on a raw file descriptor`));
      throwsUwsgi(() => w.wait_fd_write({} as never), 'ERR_ARG_TYPE');
    } finally {
      client.destroy();
      peer.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
