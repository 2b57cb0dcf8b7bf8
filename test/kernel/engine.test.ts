import uwsgiDefault, { STANDALONE_OPTIONS, VERSION, createEngine } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

describe('engine', () => {
  test('globals of the master view', () => {
    const { uwsgi } = createEngine({ workers: 3, 'buffer-size': 8192 });
    assert.equal(uwsgi.numproc, 3);
    assert.equal(uwsgi.buffer_size, 8192);
    assert.equal(uwsgi.worker_id(), 0);
    assert.equal(uwsgi.mule_id(), 0);
    assert.ok(Number.isInteger(uwsgi.masterpid()) && uwsgi.masterpid() > 0);
    assert.ok(uwsgi.started_on > 1_600_000_000 && uwsgi.started_on <= Date.now() / 1000 + 1);
    assert.equal(uwsgi.version, VERSION);
    assert.deepEqual(uwsgi.version_info.slice(0, 3), [2, 0, 21]);
    assert.equal(uwsgi.SPOOL_OK, -2);
    assert.equal(uwsgi.SPOOL_RETRY, -1);
    assert.equal(uwsgi.SPOOL_IGNORE, 0);
    assert.equal(uwsgi.queue_size, undefined, 'no queue unless configured');
    assert.equal(typeof uwsgi.hostname, 'string');
    assert.deepEqual(Object.keys(uwsgi.magic_table), ['%', '(', 'G', 'T', 'U', 'V', '[', 'g', 'h', 'k', 't', 'u', 'v']);
    assert.equal(uwsgi.magic_table.h, uwsgi.hostname);
    const [rss, vsz] = uwsgi.mem();
    assert.ok(rss > 0 && vsz >= 0);
    const us = uwsgi.micros();
    assert.ok(Math.abs(us / 1000 - Date.now()) < 5000);
  });

  test('an attached view acts as another thread (worker_id) over the same memory', () => {
    const engine = createEngine({ sharedarea: 1, workers: 2 });
    const w2 = engine.attach('worker', 2);
    assert.equal(w2.worker_id(), 2);
    engine.uwsgi.sharedarea_write(0, 'shared!');
    assert.equal(new TextDecoder().decode(w2.sharedarea_read(0, 7)), 'shared!');
  });

  test('engines are independent', () => {
    const a = createEngine({ sharedarea: 1 }).uwsgi;
    const b = createEngine({ sharedarea: 1 }).uwsgi;
    a.sharedarea_writebyte(0, 7);
    assert.equal(b.sharedarea_readbyte(0), 0);
  });

  test('the default export is a standalone engine outside a master', () => {
    assert.equal(uwsgiDefault.worker_id(), 0);
    assert.equal(uwsgiDefault.sharedarea(0).size, STANDALONE_OPTIONS.sharedarea * 4096);
    uwsgiDefault.lock();
    assert.equal(uwsgiDefault.is_locked(), true);
    uwsgiDefault.unlock();
    assert.equal(uwsgiDefault.queue_size, STANDALONE_OPTIONS.queue);
    uwsgiDefault.queue_push('job');
    assert.equal(new TextDecoder().decode(uwsgiDefault.queue_pull()!), 'job');
  });

  test('thread slots run out with a clear error', () => {
    // master + 1 worker + 1 extra: two slots are free for attach() besides the master's.
    const engine = createEngine({ workers: 1, 'extra-threads': 1 });
    engine.attach();
    engine.attach();
    throwsUwsgi(() => engine.attach(), 'ERR_FULL', /extra-threads/);
  });

  test('a sharedarea function without a configured area says so', () => {
    const { uwsgi } = createEngine({});
    throwsUwsgi(() => uwsgi.sharedarea_read(0, 1), 'ERR_NOT_CONFIGURED', /no sharedarea configured/);
  });
});
