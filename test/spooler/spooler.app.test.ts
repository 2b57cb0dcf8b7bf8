import { run } from 'uwsgi-wasm';
import { spoolerOf } from 'uwsgi-wasm/spooler';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe('spooler with an app made for workers', () => {
  test("the README's example app (examples/hello.js, register_rpc at its top) with --spooler: the spooler imports it and stays up", async () => {
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const dir = mkdtempSync(join(base, 'uwsgi-spool-'));
    const logs: string[] = [];
    const master = await run({
      options: { workers: 1, spooler: join(dir, 'spool'), 'spooler-frequency': 1 },
      app: 'examples/hello.js', handleSignals: false, log: (l) => logs.push(l),
    });
    try {
      await master.ready();
      // Long enough for a few respawns of a spooler that dies at import (the first comes after 100 ms).
      await sleep(1500);
      assert.ok(!logs.some((l) => /spooler 1 (died|failed)/.test(l)), logs.join('\n'));
      assert.equal(spoolerOf(master.uwsgi.ctx).stats()[0].respawns, 0, logs.join('\n'));
      assert.equal(master.threadRows().find((r) => r.kind === 'spooler')?.state, 'running');
      // The worker owns the RPC function; the spooler's registration registered nothing.
      assert.deepEqual(master.uwsgi.rpc_list().map((n) => text(n)), ['hello']);
      assert.equal(text(await master.uwsgi.call('hello', 'a', 'b')), 'hello:a,b');
    } finally {
      await master.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
