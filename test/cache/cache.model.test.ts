// A seeded random walk over every cache function, checked op by op against a
// plain reference model (a Map with expiry and LRU order), on a fake clock.
import { createEngine, type Uwsgi } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert, rng } from '../lib/helpers.ts';

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const OPS = Number(env.UWSGI_WASM_CACHE_OPS ?? 1_000_000);

interface Entry { v: Uint8Array; e: number }
const int64le = (n: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, n, true); return b; };
const readI64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);

/** What uWSGI's cache does, written the obvious way. */
class Model {
  readonly m = new Map<string, Entry>();
  now = 0;
  constructor(readonly cap: number, readonly maxValue: number, readonly keysize: number, readonly lru: boolean, readonly lazy: boolean) {}
  #live(k: string): Entry | undefined {
    const x = this.m.get(k);
    if (x && this.lazy && x.e !== 0 && x.e <= this.now) { this.m.delete(k); return undefined; }
    return x;
  }
  #touch(k: string, x: Entry): void { if (this.lru) { this.m.delete(k); this.m.set(k, x); } }
  #abs(e: number): number { return e === 0 ? 0 : this.lru ? e : this.now + e; }
  #okKey(k: string): boolean { return k.length > 0 && k.length <= this.keysize; }
  #insert(k: string, x: Entry): boolean {
    if (this.m.size >= this.cap) {
      if (this.lru) this.m.delete(this.m.keys().next().value!);
      if (this.m.size >= this.cap) return false;
    }
    this.m.set(k, x);
    return true;
  }
  get(k: string): Uint8Array | null {
    if (!this.#okKey(k)) return null;
    const x = this.#live(k);
    if (!x) return null;
    this.#touch(k, x);
    return x.v;
  }
  exists(k: string): true | null { return this.#okKey(k) && this.#live(k) ? true : null; }
  store(k: string, v: Uint8Array, e: number, update: boolean): true | null {
    if (!this.#okKey(k) || v.length === 0 || v.length > this.maxValue) return null;
    const x = this.#live(k);
    if (x && !update) return null;
    if (!x) return this.#insert(k, { v, e: this.#abs(e) }) || null;
    x.v = v; x.e = this.#abs(e);
    this.#touch(k, x);
    return true;
  }
  del(k: string): true | null {
    if (!this.#okKey(k) || !this.#live(k)) return null;
    this.m.delete(k);
    return true;
  }
  math(k: string, op: number, d: bigint, e: number): true | null | 'overflow' {
    if (!this.#okKey(k)) return null;
    const x = this.#live(k);
    const v = x ? readI64(x.v) : 0n;
    const r = op === 0 ? v + d : op === 1 ? v - d : op === 2 ? v * d : d === 0n ? 0n : v / d;
    // Past the int64 range the counter is refused and left alone (uWSGI wraps it).
    if (r !== BigInt.asIntN(64, r)) return 'overflow';
    if (x) { x.v = int64le(r); this.#touch(k, x); return true; }
    return this.#insert(k, { v: int64le(r), e: this.#abs(e) }) || null;
  }
  num(k: string): bigint {
    const x = this.#okKey(k) ? this.#live(k) : undefined;
    if (!x) return 0n;
    this.#touch(k, x);
    return x.v.length === 8 ? readI64(x.v) : 0n;
  }
  sweep(): void {
    if (this.lazy || this.lru) return;
    for (const [k, x] of this.m) if (x.e !== 0 && x.e <= this.now) this.m.delete(k);
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const CACHES = [
  { spec: 'name=lazy,items=129,blocksize=16,keysize=16,lazy_expire=1,hash=murmur2,hashsize=61', cap: 128, lru: false, lazy: true },
  { spec: 'name=sweep,items=129,blocksize=16,keysize=16,hashsize=97', cap: 128, lru: false, lazy: false },
  { spec: 'name=lru,items=65,blocksize=16,keysize=16,purge_lru=1', cap: 64, lru: true, lazy: false },
];
const MATH_FNS = ['cache_inc', 'cache_dec', 'cache_mul', 'cache_div'] as const;

describe('cache against a reference model', () => {
  test(`seeded random walk: ${OPS} ops over lazy, swept and LRU caches, fake clock`, () => {
    const engine = createEngine({ cache2: CACHES.map((c) => c.spec) });
    let nowMs = 1_700_000_000_000;
    engine.setClock(() => nowMs);
    const u: Uwsgi = engine.uwsgi;
    const models = CACHES.map((c) => new Model(c.cap, 16, 16, c.lru, c.lazy));
    const rand = rng(0xC0FFEE);
    const pick = (n: number) => Math.floor(rand() * n);
    const key = () => {
      const r = rand();
      return r < 0.005 ? '' : r < 0.01 ? 'k'.repeat(17) : `k${pick(200)}`;
    };
    const value = () => {
      const r = rand();
      const len = r < 0.01 ? 0 : r < 0.02 ? 17 : 1 + pick(16);
      const v = new Uint8Array(len);
      for (let i = 0; i < len; i++) v[i] = pick(256);
      return v;
    };
    const expires = () => (rand() < 0.7 ? 0 : 1 + pick(5));
    for (let i = 0; i < OPS; i++) {
      const ci = pick(CACHES.length);
      const name = CACHES[ci].spec.slice(5, CACHES[ci].spec.indexOf(','));
      const m = models[ci];
      m.now = Math.floor(nowMs / 1000);
      const r = pick(100);
      const where = () => `op ${i} (cache ${name}, r=${r})`;
      if (r < 25) {
        const k = key();
        assert.ok(sameBytes(u.cache_get(k, name), m.get(k)), `get ${where()}`);
      } else if (r < 35) {
        const k = key();
        assert.equal(u.cache_exists(k, name), m.exists(k), `exists ${where()}`);
      } else if (r < 55) {
        const k = key(), v = value(), e = expires();
        assert.equal(u.cache_set(k, v, e, name), m.store(k, v, e, false), `set ${where()}`);
      } else if (r < 65) {
        const k = key(), v = value(), e = expires();
        assert.equal(u.cache_update(k, v, e, name), m.store(k, v, e, true), `update ${where()}`);
      } else if (r < 75) {
        const k = key();
        assert.equal(u.cache_del(k, name), m.del(k), `del ${where()}`);
      } else if (r < 88) {
        const k = `n${pick(16)}`, op = pick(4), e = expires();
        const d = BigInt(pick(2000) - 1000) * (rand() < 0.05 ? 1n << 40n : 1n);
        let got: unknown;
        try { got = u[MATH_FNS[op]](k, d, e, name); } catch (err) { if ((err as { code?: string }).code !== 'ERR_VALUE_RANGE') throw err; got = 'overflow'; }
        assert.equal(got, m.math(k, op, d, e), `${MATH_FNS[op]} ${where()}`);
      } else if (r < 94) {
        const k = rand() < 0.5 ? `n${pick(16)}` : key();
        assert.equal(u.cache_num(k, name), m.num(k), `num ${where()}`);
      } else if (r < 99) {
        nowMs += pick(2000);
      } else {
        engine.sweepCaches();
        for (const mm of models) { mm.now = Math.floor(nowMs / 1000); mm.sweep(); }
      }
      if (i % 100_000 === 99_999 || i === OPS - 1) {
        CACHES.forEach((c, j) => {
          cachesOf(u.ctx).check(j);
          const got = u.cache_keys(CACHES[j].spec.slice(5, c.spec.indexOf(','))).map((b) => new TextDecoder().decode(b)).sort();
          assert.deepEqual(got, [...models[j].m.keys()].sort(), `keys of cache ${j} after op ${i}`);
        });
      }
    }
    // The walk reached every interesting state: full caches, hits and misses.
    CACHES.forEach((_, j) => {
      const st = cachesOf(u.ctx).stats(j);
      assert.ok(st.full > 0n && st.hits > 0n && st.miss > 0n, `cache ${j} stats ${JSON.stringify(st, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    });
  }, 600_000);
});
