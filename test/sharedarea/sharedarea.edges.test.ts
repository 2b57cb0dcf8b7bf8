import { createEngine } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

describe('sharedarea edges', () => {
  test('64-bit counters: a result past the int64 range is ERR_VALUE_RANGE and leaves the value alone (uWSGI wraps)', () => {
    const { uwsgi } = createEngine({ sharedarea: 1 });
    const area = uwsgi.sharedarea(0);
    const cases: Array<[string, bigint, () => unknown]> = [
      ['sharedarea_inclong', MAX, () => uwsgi.sharedarea_inclong(0)],
      ['sharedarea_inclong', MIN, () => uwsgi.sharedarea_inclong(0, -1)],
      ['sharedarea.inc64', MAX - 1n, () => area.inc64(0, 2)],
      ['sharedarea.inc64', MIN, () => area.inc64(0, -1n)],
      ['sharedarea.dec64', MIN, () => area.dec64(0)],
      ['sharedarea.dec64', 0n, () => area.dec64(0, MIN)],
      ['sharedarea.dec64', -2n, () => area.dec64(0, MAX)],
      ['sharedarea.inc64', MAX, () => uwsgi.sharedareas.sharedarea_inc64(0, 0, 1)],
      ['sharedarea.dec64', MIN, () => uwsgi.sharedareas.sharedarea_dec64(0, 0, 1)],
    ];
    for (const [fn, start, op] of cases) {
      area.write64(0, start);
      throwsUwsgi(op, 'ERR_VALUE_RANGE', new RegExp(`${fn.replace('.', '\\.')}: the result does not fit in a signed 64-bit integer; the value is left unchanged`));
      assert.equal(area.read64(0), start, `${fn} from ${start} changed the value`);
    }
    // Up to the edges is fine.
    area.write64(0, MAX - 1n);
    assert.equal(uwsgi.sharedarea_inclong(0), MAX);
    area.write64(0, -1n);
    assert.equal(area.dec64(0, MAX), MIN);
    area.write64(0, MIN + 1n);
    assert.equal(area.dec64(0), MIN);
    // The refused update kept the lock free: a write goes through.
    area.write64(0, 5n);
    assert.equal(area.inc64(0), 6n);
  });

  test(`a thread may hold 16 read locks at once; one more is ERR_FULL, and releasing one makes room`, () => {
    const { uwsgi } = createEngine({ sharedarea: Array.from({ length: 18 }, () => 1) });
    for (let id = 0; id < 16; id++) uwsgi.sharedarea(id).rlock();
    throwsUwsgi(() => uwsgi.sharedarea(16).rlock(), 'ERR_FULL', /sharedarea\.rlock: this thread holds 16 read locks already/);
    throwsUwsgi(() => uwsgi.sharedarea(17).read8(0), 'ERR_FULL', /sharedarea\.read8: this thread holds 16 read locks/);
    throwsUwsgi(() => uwsgi.sharedarea(17).read(0, 4), 'ERR_FULL', /sharedarea\.read: this thread holds 16 read locks/);
    uwsgi.sharedarea(17).write8(0, 1);
    uwsgi.sharedarea(3).unlock();
    assert.equal(uwsgi.sharedarea(17).read8(0), 1, 'a one-shot read needs a free entry only while it runs');
    uwsgi.sharedarea(16).rlock();
    throwsUwsgi(() => uwsgi.sharedarea(3).rlock(), 'ERR_FULL');
    for (let id = 0; id < 17; id++) uwsgi.sharedarea(id).unlock();
    assert.equal(uwsgi.sharedarea(17).read8(0), 1);
  });
});
