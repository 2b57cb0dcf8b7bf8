import { createEngine, type Uwsgi } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi, rng } from '../lib/helpers.ts';

const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));
const queue = (slots = 10, blocksize = 64): Uwsgi => createEngine({ queue: slots, 'queue-blocksize': blocksize }).uwsgi;

/** uWSGI's ring, as a plain array: what every operation must do. */
class RingModel {
  slots: Array<Uint8Array | null>;
  pos = 0;
  pull = 0;
  constructor(readonly n: number, readonly cap: number) { this.slots = new Array(n).fill(null); }
  push(v: Uint8Array): true | null {
    if (v.length === 0 || v.length > this.cap) return null;
    this.slots[this.pos] = v;
    this.pos = (this.pos + 1) % this.n;
    return true;
  }
  pullOne(): Uint8Array | null {
    const v = this.slots[this.pull];
    if (v === null) return null;
    this.slots[this.pull] = null;
    this.pull = (this.pull + 1) % this.n;
    return v;
  }
  pop(): Uint8Array | null {
    this.pos = (this.pos + this.n - 1) % this.n;
    const v = this.slots[this.pos];
    this.slots[this.pos] = null;
    return v;
  }
  get(i: number): Uint8Array | null { return i >= 0 && i < this.n ? this.slots[i] : null; }
  set(i: number, v: Uint8Array): true | null {
    if (i < 0 || i >= this.n || v.length === 0 || v.length > this.cap) return null;
    this.slots[i] = v;
    return true;
  }
  last(k: number): Array<Uint8Array | null> {
    const out: Array<Uint8Array | null> = [];
    for (let j = 1; j <= Math.min(k, this.n); j++) out.push(this.slots[(this.pos - j + this.n * 2) % this.n]);
    return out;
  }
}

describe('queue', () => {
  test('FIFO pull, LIFO pop, heads, and uWSGI\'s worked example', () => {
    const u = queue(10, 8192);
    assert.equal(u.queue_size, 10);
    for (const m of ['m0', 'm1', 'm2']) assert.equal(u.queue_push(m), true);
    assert.equal(u.queue_slot(), 3);
    assert.equal(u.queue_pull_slot(), 0);
    assert.equal(text(u.queue_last() as Uint8Array), 'm2');
    assert.deepEqual([0, 1, 2, 3].map((i) => text(u.queue_get(i))), ['m0', 'm1', 'm2', null]);
    assert.equal(text(u.queue_pull()), 'm0');
    assert.equal(text(u.queue_pop()), 'm2');
    assert.equal(text(u.queue_pull()), 'm1');
    assert.equal(u.queue_pull(), null);
    assert.deepEqual([u.queue_slot(), u.queue_pull_slot()], [2, 2]);
  });

  test('a full ring is overwritten by push; pop on an empty ring walks the head back', () => {
    const u = queue(4);
    for (let i = 0; i < 6; i++) u.queue_push(`f${i}`);
    assert.deepEqual([0, 1, 2, 3].map((i) => text(u.queue_get(i))), ['f4', 'f5', 'f2', 'f3']);
    const v = queue(4);
    assert.equal(v.queue_pop(), null);
    assert.equal(v.queue_slot(), 3);
    v.queue_push('x');
    assert.equal(text(v.queue_get(3)), 'x');
  });

  test('message sizes: capacity is blocksize - 16; strings are UTF-8; bytes come back as Uint8Array', () => {
    const u = queue(4, 64);
    assert.equal(u.queue_push(new Uint8Array(48).fill(7)), true);
    assert.equal(u.queue_push(new Uint8Array(49)), null);
    assert.equal(u.queue_push(''), null);
    assert.equal(u.queue_push('é'.repeat(24)), true);
    assert.equal(u.queue_push('é'.repeat(25)), null);
    assert.equal(u.queue_slot(), 2);
    const got = u.queue_pull()!;
    assert.ok(got instanceof Uint8Array);
    assert.equal(got.length, 48);
    assert.equal(text(u.queue_pull()), 'é'.repeat(24));
  });

  test('queue_set: bad index or empty value is null; a value over the slot is ERR_BOUNDS (uWSGI overwrote the next slot)', () => {
    const u = queue(4, 64);
    assert.equal(u.queue_set(3, 'ok'), true);
    assert.equal(u.queue_set(4, 'no'), null);
    assert.equal(u.queue_set(-1, 'no'), null);
    assert.equal(u.queue_set(0, ''), null);
    throwsUwsgi(() => u.queue_set(1, new Uint8Array(49)), 'ERR_BOUNDS', /queue_set: a 49-byte message does not fit in a queue slot \(at most 48 bytes with queue-blocksize 64\)/);
    throwsUwsgi(() => u.queue_set(1, new Uint8Array(80)), 'ERR_BOUNDS');
    assert.equal(u.queue_set(1, new Uint8Array(81)), null, 'beyond blocksize+16 uWSGI refused it too');
    assert.equal(u.queue_get(2), null, 'the neighbour slot is untouched');
    assert.deepEqual([u.queue_slot(), u.queue_pull_slot()], [0, 0]);
  });

  test('queue_last: clamps to the ring, never removes, refuses a negative count', () => {
    const u = queue(3);
    u.queue_push('a');
    assert.deepEqual((u.queue_last(5) as Array<Uint8Array | null>).map(text), ['a', null, null]);
    assert.equal(text(u.queue_last(0) as Uint8Array), 'a');
    assert.equal(text(u.queue_pull()), 'a');
    throwsUwsgi(() => u.queue_last(-1), 'ERR_VALUE_RANGE', /queue_last: n must be 0 or more, got -1/);
  });

  test('queue_last on a ring whose slots exceed one scratch (many large messages) returns them all', () => {
    const u = queue(40, 8192);
    for (let i = 0; i < 40; i++) u.queue_push(new Uint8Array(8176).fill(i));
    const all = u.queue_last(40) as Uint8Array[];
    assert.equal(all.length, 40);
    assert.deepEqual(all.map((m) => m[0]), Array.from({ length: 40 }, (_, i) => 39 - i));
    assert.ok(all.every((m) => m.length === 8176));
  });

  test('bad arguments name the function and the argument', () => {
    const u = queue();
    const any = u as unknown as Record<string, (...a: unknown[]) => unknown>;
    throwsUwsgi(() => any.queue_push(1), 'ERR_ARG_TYPE', /queue_push: value must be a string or Uint8Array, got number/);
    throwsUwsgi(() => any.queue_push(), 'ERR_ARG_COUNT', /queue_push\(\) takes exactly 1 argument \(0 given\)/);
    throwsUwsgi(() => any.queue_get('a'), 'ERR_ARG_TYPE', /queue_get: index must be an integer, got string/);
    throwsUwsgi(() => any.queue_get(1.5), 'ERR_ARG_TYPE', /got 1\.5/);
    throwsUwsgi(() => any.queue_set(1), 'ERR_ARG_COUNT', /queue_set\(\) takes exactly 2 arguments \(1 given\)/);
    throwsUwsgi(() => any.queue_set('a', 'x'), 'ERR_ARG_TYPE', /queue_set: index must be an integer/);
    throwsUwsgi(() => any.queue_set(0, null), 'ERR_ARG_TYPE', /queue_set: value must be a string or Uint8Array, got null/);
    throwsUwsgi(() => any.queue_last('x'), 'ERR_ARG_TYPE', /queue_last: n must be an integer/);
    throwsUwsgi(() => any.queue_pull(1), 'ERR_ARG_COUNT', /queue_pull\(\) takes exactly 0 arguments \(1 given\)/);
  });

  test('without --queue: queue_size is undefined and every queue function is ERR_NOT_CONFIGURED', () => {
    const u = createEngine({}).uwsgi;
    assert.equal(u.queue_size, undefined);
    throwsUwsgi(() => u.queue_push('x'), 'ERR_NOT_CONFIGURED', /queue_push: no queue configured \(use the 'queue' option\)/);
    throwsUwsgi(() => u.queue_slot(), 'ERR_NOT_CONFIGURED', /queue_slot/);
  });

  test('options: queue-blocksize default 8192, limits are checked', () => {
    const u = createEngine({ queue: 2 }).uwsgi;
    assert.equal(u.queue_push(new Uint8Array(8176)), true);
    assert.equal(u.queue_push(new Uint8Array(8177)), null);
    throwsUwsgi(() => createEngine({ queue: 2, 'queue-blocksize': 16 }), 'ERR_OPTION', /queue-blocksize/);
    throwsUwsgi(() => createEngine({ queue: -1 }), 'ERR_OPTION', /queue/);
  });

  test('two thread views share one ring', () => {
    const engine = createEngine({ queue: 8, workers: 2 });
    const w2 = engine.attach('worker', 2);
    engine.uwsgi.queue_push('from master');
    assert.equal(text(w2.queue_pull()), 'from master');
    assert.equal(engine.uwsgi.queue_pull_slot(), 1);
  });

  for (const seed of [1, 7, 42, 2024]) {
    test(`seeded model test (seed ${seed}): 5000 random operations match an array model of the ring`, () => {
      const r = rng(seed);
      const n = 1 + Math.floor(r() * 12);
      const u = queue(n, 32);
      const m = new RingModel(n, 16);
      const msg = () => { const len = Math.floor(r() * 19); return Uint8Array.from({ length: len }, () => Math.floor(r() * 256)); };
      const eq = (a: unknown, b: unknown, what: string) => assert.deepEqual(a, b, `${what} (seed ${seed})`);
      for (let i = 0; i < 5000; i++) {
        const op = Math.floor(r() * 7);
        const idx = Math.floor(r() * (n + 2)) - 1;
        if (op === 0 || op === 1) { const v = msg(); eq(u.queue_push(v), m.push(v), `push ${i}`); }
        else if (op === 2) eq(u.queue_pull(), m.pullOne(), `pull ${i}`);
        else if (op === 3) eq(u.queue_pop(), m.pop(), `pop ${i}`);
        else if (op === 4) eq(u.queue_get(idx), m.get(idx), `get ${i}`);
        else if (op === 5) { const v = msg().subarray(0, 16); eq(u.queue_set(idx, v), m.set(idx, v), `set ${i}`); }
        else { const k = Math.floor(r() * (n + 3)); eq(u.queue_last(k), k === 0 ? m.last(1)[0] : m.last(k), `last ${i}`); }
        eq([u.queue_slot(), u.queue_pull_slot()], [m.pos, m.pull], `heads after op ${i}`);
      }
    });
  }
});
