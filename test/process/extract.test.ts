import { createEngine } from 'uwsgi-wasm';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

describe('extract and embedded_data', () => {
  test('extract reads a path or file:// URL; a missing file is null; other schemes are typed errors', () => {
    const u = createEngine({}).uwsgi;
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-extract-'));
    try {
      const file = join(dir, 'data.bin');
      const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
      writeFileSync(file, bytes);
      assert.deepEqual(u.extract(file), bytes);
      assert.deepEqual(u.extract(`file://${file}`), bytes);
      assert.equal(u.extract(join(dir, 'missing')), null);
      throwsUwsgi(() => u.extract(dir), 'ERR_NOT_FOUND', /cannot read/);
      throwsUwsgi(() => u.extract('sym://foo'), 'ERR_UNSUPPORTED', /'sym:\/\/' scheme/);
      throwsUwsgi(() => u.extract('exec://ls'), 'ERR_UNSUPPORTED');
      throwsUwsgi(() => u.extract(''), 'ERR_VALUE_RANGE');
      throwsUwsgi(() => u.extract(3 as unknown as string), 'ERR_ARG_TYPE');
      throwsUwsgi(() => (u.extract as (...a: unknown[]) => unknown)(), 'ERR_ARG_COUNT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('embedded_data: no symbols are linked into a JS process, so every lookup is null', () => {
    const u = createEngine({}).uwsgi;
    assert.equal(u.embedded_data('anything'), null);
    throwsUwsgi(() => u.embedded_data(1 as unknown as string), 'ERR_ARG_TYPE');
  });
});
