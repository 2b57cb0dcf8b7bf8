import { createEngine, type Uwsgi } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const text = (u8: Uint8Array) => new TextDecoder().decode(u8);

function area(opts: Record<string, unknown> = { sharedarea: 1 }): Uwsgi {
  return createEngine(opts).uwsgi;
}

describe('sharedarea (seed signatures, area 0)', () => {
  test('write/read bytes and strings; read without len reads to the end', () => {
    const u = area();
    assert.equal(u.sharedarea_write(10, 'héllo'), 6);
    assert.equal(text(u.sharedarea_read(10, 6)), 'héllo');
    assert.equal(u.sharedarea_read(4090).length, 6);
    assert.equal(u.sharedarea_read(0).length, 4096);
    assert.equal(u.sharedarea_read(5, 0).length, 4091);
    u.sharedarea_write(0, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...u.sharedarea_read(0, 3)], [1, 2, 3]);
  });

  test('readbyte/writebyte, readlong/writelong/inclong return what the seed says', () => {
    const u = area();
    assert.equal(u.sharedarea_writebyte(0, 200), 200);
    assert.equal(u.sharedarea_readbyte(0), -56);
    assert.equal(u.sharedarea_writelong(8, -2n), -2n);
    assert.equal(u.sharedarea_inclong(8), -1n);
    assert.equal(u.sharedarea_inclong(8, 10), 9n);
    assert.equal(u.sharedarea_inclong(8, 2n ** 40n), 2n ** 40n + 9n);
    assert.equal(u.sharedarea_readlong(8), 2n ** 40n + 9n);
    u.sharedarea_writelong(16, 0x7fffffffffffffffn);
    assert.equal(u.sharedarea_inclong(16), -0x8000000000000000n, '64-bit counters wrap like int64');
  });

  test('every out-of-bounds position or length is ERR_BOUNDS naming the function', () => {
    const u = area();
    throwsUwsgi(() => u.sharedarea_read(4095, 2), 'ERR_BOUNDS', /sharedarea.read: 2 byte\(s\) at position 4095 do not fit in sharedarea 0 \(4096 bytes\)/);
    throwsUwsgi(() => u.sharedarea_read(4096), 'ERR_BOUNDS');
    throwsUwsgi(() => u.sharedarea_read(-1, 1), 'ERR_BOUNDS');
    throwsUwsgi(() => u.sharedarea_read(0, -1), 'ERR_BOUNDS', /len must not be negative/);
    throwsUwsgi(() => u.sharedarea_write(4095, 'ab'), 'ERR_BOUNDS', /sharedarea.write/);
    throwsUwsgi(() => u.sharedarea_write(4096, ''), 'ERR_BOUNDS');
    throwsUwsgi(() => u.sharedarea_readbyte(4096), 'ERR_BOUNDS', /read8/);
    throwsUwsgi(() => u.sharedarea_writebyte(-1, 1), 'ERR_BOUNDS');
    throwsUwsgi(() => u.sharedarea_readlong(4089), 'ERR_BOUNDS', /read64/);
    throwsUwsgi(() => u.sharedarea_writelong(4089, 1), 'ERR_BOUNDS', /write64/);
    throwsUwsgi(() => u.sharedarea_inclong(4089), 'ERR_BOUNDS', /sharedarea_inclong/);
    // uWSGI checked only 4 bytes here and wrote past the area; we check all 8.
    throwsUwsgi(() => u.sharedarea_inclong(4092), 'ERR_BOUNDS');
    throwsUwsgi(() => u.sharedarea_read(2 ** 40, 1), 'ERR_BOUNDS');
  });

  test('every bad type or count is ERR_ARG_TYPE / ERR_ARG_COUNT; bad values ERR_VALUE_RANGE', () => {
    const u = area();
    const any = u as unknown as Record<string, (...a: unknown[]) => unknown>;
    throwsUwsgi(() => any.sharedarea_read('0', 1), 'ERR_ARG_TYPE', /pos must be an integer, got string/);
    throwsUwsgi(() => any.sharedarea_read(0, 1.5), 'ERR_ARG_TYPE', /len must be an integer, got 1\.5/);
    throwsUwsgi(() => any.sharedarea_write(0, 5), 'ERR_ARG_TYPE', /data must be a string or Uint8Array, got number/);
    throwsUwsgi(() => any.sharedarea_write(0, [1, 2]), 'ERR_ARG_TYPE', /got Array/);
    throwsUwsgi(() => any.sharedarea_writebyte(0), 'ERR_ARG_COUNT', /takes exactly 2 arguments \(1 given\)/);
    throwsUwsgi(() => any.sharedarea_read(), 'ERR_ARG_COUNT', /at least 1/);
    throwsUwsgi(() => any.sharedarea_writebyte(0, 256), 'ERR_VALUE_RANGE', /value 256 does not fit in 8 bits/);
    throwsUwsgi(() => any.sharedarea_writebyte(0, -1), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => any.sharedarea_writebyte(0, '1'), 'ERR_ARG_TYPE');
    throwsUwsgi(() => any.sharedarea_writelong(0, 2n ** 63n), 'ERR_VALUE_RANGE', /signed 64-bit/);
    throwsUwsgi(() => any.sharedarea_writelong(0, 2 ** 60), 'ERR_ARG_TYPE', /safe integer/);
    throwsUwsgi(() => any.sharedarea_writelong(0, '1'), 'ERR_ARG_TYPE');
    throwsUwsgi(() => any.sharedarea_inclong(0, 1.5), 'ERR_ARG_TYPE');
    throwsUwsgi(() => any.sharedarea_readlong(null), 'ERR_ARG_TYPE', /got null/);
  });
});

describe('sharedarea (uWSGI 2.0 multi-area API)', () => {
  test('several areas, by id; typed LE access; signed reads', () => {
    const u = area({ sharedarea: [1, 'size=100'] });
    const s = u.sharedareas;
    assert.equal(s.count, 2);
    assert.equal(u.sharedarea(1).size, 100);
    s.sharedarea_write64(1, 0, 0x0102030405060708n);
    assert.deepEqual([...s.sharedarea_read(1, 0, 8)], [8, 7, 6, 5, 4, 3, 2, 1]);
    s.sharedarea_write32(1, 8, 0xffffffff);
    assert.equal(s.sharedarea_read32(1, 8), -1);
    s.sharedarea_write16(1, 12, 0xffff);
    assert.equal(s.sharedarea_read16(1, 12), -1);
    // uWSGI 2.0.21 refuses a negative 16-bit value (test/vectors/sharedarea_edges.json).
    throwsUwsgi(() => s.sharedarea_write16(1, 12, -2), 'ERR_VALUE_RANGE');
    assert.equal(s.sharedarea_read16(1, 12), -1, 'a refused write leaves the bytes');
    s.sharedarea_inc32(1, 16, 5);
    s.sharedarea_dec32(1, 16, 7);
    assert.equal(s.sharedarea_read32(1, 16), -2);
    s.sharedarea_write32(1, 20, 0x7fffffff);
    s.sharedarea_inc32(1, 20);
    assert.equal(s.sharedarea_read32(1, 20), -0x80000000, 'int32 counters wrap');
    assert.equal(s.sharedarea_read8(0, 0), 0, 'areas are separate');
    throwsUwsgi(() => s.sharedarea_read(2, 0, 1), 'ERR_NOT_FOUND', /no sharedarea 2 \(2 configured\)/);
    throwsUwsgi(() => s.sharedarea_read(-1, 0, 1), 'ERR_NOT_FOUND');
    throwsUwsgi(() => s.sharedarea_write32(1, 97, 1), 'ERR_BOUNDS');
    throwsUwsgi(() => s.sharedarea_write32(1, 0, 2 ** 32), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => s.sharedarea_write16(1, 0, 0x10000), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => s.sharedarea_inc32(1, 0, 2 ** 33), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => s.sharedarea_inc32(1, 0, 2 ** 31), 'ERR_VALUE_RANGE', /signed 32-bit/);
    throwsUwsgi(() => s.sharedarea_read8(2 ** 32, 0), 'ERR_VALUE_RANGE', /does not fit/);  // never wraps onto area 0
    throwsUwsgi(() => s.sharedarea_read8(1, 2n ** 63n - 1n), 'ERR_BOUNDS');
    throwsUwsgi(() => s.sharedarea_read(1, 0, null as never), 'ERR_ARG_TYPE');
  });

  test('updates and hits counters', () => {
    const a = area().sharedarea(0);
    a.write(0, 'x');
    a.inc64(8);
    a.read(0, 1);
    assert.equal(a.updates, 2n);
    assert.equal(a.hits, 1n);
  });

  test('the memoryview is zero-copy and shared with other threads', () => {
    const engine = createEngine({ sharedarea: 1 });
    const other = engine.attach('worker', 1);
    const view = engine.uwsgi.sharedareas.sharedarea_memoryview(0);
    assert.equal(view.length, 4096);
    view[100] = 42;
    assert.equal(other.sharedarea_readbyte(100), 42);
    other.sharedarea_writebyte(101, 43);
    assert.equal(view[101], 43);
  });

  test('rlock/wlock compose with the accessors; misuse is ERR_LOCK_STATE, never a deadlock', () => {
    const engine = createEngine({ sharedarea: 1 });
    const a = engine.uwsgi.sharedarea(0);
    a.wlock();
    a.write(0, 'under wlock');
    assert.equal(text(a.read(0, 11)), 'under wlock');
    throwsUwsgi(() => a.wlock(), 'ERR_LOCK_STATE', /already holds sharedarea 0/);
    a.unlock();
    a.rlock();
    assert.equal(text(a.read(0, 5)), 'under');
    throwsUwsgi(() => a.write(0, 'x'), 'ERR_LOCK_STATE', /holds sharedarea 0 for reading/);
    throwsUwsgi(() => a.inc64(0), 'ERR_LOCK_STATE');
    // Another thread may read alongside.
    const other = engine.attach('worker', 1);
    assert.equal(text(other.sharedarea(0).read(0, 5)), 'under');
    a.unlock();
    a.unlock(); // releasing nothing is a no-op
    other.sharedarea(0).write(0, 'X');
  });

  test('a writer that died holding the area is broken on the next access', () => {
    const engine = createEngine({ sharedarea: 1 });
    const victim = engine.attach('worker', 1);
    victim.sharedarea(0).wlock();
    engine.threadExited(victim.ctx.tid);
    engine.uwsgi.sharedarea_write(0, 'after');
    assert.equal(text(engine.uwsgi.sharedarea_read(0, 5)), 'after');
  });

  test('a reader that died holding the area does not block writers forever', () => {
    const engine = createEngine({ sharedarea: 1 });
    const victim = engine.attach('worker', 1);
    victim.sharedarea(0).rlock();
    engine.threadExited(victim.ctx.tid);
    engine.uwsgi.sharedarea(0).wlock();
    engine.uwsgi.sharedarea(0).unlock();
  });
});
