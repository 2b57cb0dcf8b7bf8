import { createEngine } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe('cache keys', () => {
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
});
