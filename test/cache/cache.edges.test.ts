import { createEngine } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe('cache edges', () => {
  test('a lone surrogate is refused as a key (ERR_ARG_TYPE), never folded into U+FFFD', () => {
    const { uwsgi } = createEngine({ cache2: 'name=default,items=10' });
    uwsgi.cache_set('\ufffd', 'replacement character');
    for (const key of ['\ud800', '\udfff', 'a\ud800b', `${'x'.repeat(70)}\udc00`, '\ud83d']) {
      throwsUwsgi(() => uwsgi.cache_set(key, 'v'), 'ERR_ARG_TYPE', /cache_set: key has a lone surrogate/);
      throwsUwsgi(() => uwsgi.cache_get(key), 'ERR_ARG_TYPE', /lone surrogate/);
      throwsUwsgi(() => uwsgi.cache_exists(key), 'ERR_ARG_TYPE');
      throwsUwsgi(() => uwsgi.cache_del(key), 'ERR_ARG_TYPE');
      throwsUwsgi(() => uwsgi.cache_inc(key), 'ERR_ARG_TYPE');
    }
    assert.equal(text(uwsgi.cache_get('\ufffd')), 'replacement character', 'U+FFFD itself is an ordinary key, untouched');
    assert.equal(uwsgi.cache_keys().length, 1);
    // A surrogate pair is one well-formed character: a key like any other.
    uwsgi.cache_set('\ud83d\ude00', 'smile');
    assert.equal(text(uwsgi.cache_get('\ud83d\ude00')), 'smile');
    assert.equal(text(uwsgi.cache_get(new Uint8Array([0xf0, 0x9f, 0x98, 0x80]))), 'smile', 'the same key as its UTF-8 bytes');
    assert.equal(uwsgi.cache_keys().length, 2);
  });

  test('64-bit counters: a result past the int64 range is ERR_VALUE_RANGE and leaves the counter alone (uWSGI wraps)', () => {
    const { uwsgi } = createEngine({ cache2: 'name=default,items=10' });
    const MAX = (1n << 63n) - 1n;
    const MIN = -(1n << 63n);
    const put = (key: string, v: bigint) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, v, true);
      uwsgi.cache_update(key, b);
    };
    const cases: Array<[string, bigint, () => unknown]> = [
      ['cache_inc', MAX, () => uwsgi.cache_inc('n')],
      ['cache_inc', MAX - 5n, () => uwsgi.cache_inc('n', 6n)],
      ['cache_inc', MIN, () => uwsgi.cache_inc('n', -1)],
      ['cache_dec', MIN, () => uwsgi.cache_dec('n')],
      ['cache_dec', -2n, () => uwsgi.cache_dec('n', MAX)],
      ['cache_dec', 0n, () => uwsgi.cache_dec('n', MIN)],
      ['cache_mul', MAX, () => uwsgi.cache_mul('n', 2)],
      ['cache_mul', MIN, () => uwsgi.cache_mul('n', -1)],
      ['cache_mul', -1n, () => uwsgi.cache_mul('n', MIN)],
      ['cache_mul', 1n << 32n, () => uwsgi.cache_mul('n', 1n << 31n)],
      ['cache_div', MIN, () => uwsgi.cache_div('n', -1)],
    ];
    for (const [fn, start, op] of cases) {
      put('n', start);
      throwsUwsgi(op, 'ERR_VALUE_RANGE', new RegExp(`${fn}: the result does not fit in a signed 64-bit integer; the counter is left unchanged`));
      assert.equal(uwsgi.cache_num('n'), start, `${fn} from ${start} changed the counter`);
    }
    // Up to the edges is fine, both ways.
    put('n', MAX - 1n);
    assert.equal(uwsgi.cache_inc('n'), true);
    assert.equal(uwsgi.cache_num('n'), MAX);
    put('n', -1n);
    assert.equal(uwsgi.cache_dec('n', MAX), true);
    assert.equal(uwsgi.cache_num('n'), MIN);
    put('n', 1n << 31n);
    assert.equal(uwsgi.cache_mul('n', -(1n << 32n)), true);
    assert.equal(uwsgi.cache_num('n'), MIN);
    put('n', MIN + 1n);
    assert.equal(uwsgi.cache_div('n', -1), true);
    assert.equal(uwsgi.cache_num('n'), MAX);
    put('n', 7n);
    assert.equal(uwsgi.cache_div('n', 0), true, 'division by zero stores 0, as uWSGI');
    assert.equal(uwsgi.cache_num('n'), 0n);
  });
});
