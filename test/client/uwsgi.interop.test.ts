/**
 * The uwsgi protocol both ways with a real uWSGI 2.0.21 (`uwsgi --plugin python3`):
 * - our client (remote cache ops, RPC, signal, spool, messages) against a real
 *   uWSGI server running test/fixtures/interop/uwsgi_server.py;
 * - a Python app inside a real uWSGI (test/fixtures/interop/uwsgi_client.py)
 *   calling `uwsgi.cache_*(..., 'default@127.0.0.1:PORT')`, `uwsgi.rpc(...)` and
 *   `uwsgi.signal(...)` against OUR server (`uwsgi-wasm --socket ... examples/hello.js`).
 */
import uwsgi from 'uwsgi-wasm';
import { KNOWN_OPTIONS } from 'uwsgi-wasm/engine';
import { clientOf } from 'uwsgi-wasm/client';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';
import { freePort, needs, start, tempDir, waitForPort, which, type Child } from '../lib/interop.ts';

const root = process.cwd();
const fixture = (f: string) => join(root, 'test/fixtures/interop', f);
const enc = (s: string) => new TextEncoder().encode(s);
const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));

async function get(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(r.status, 200, `GET ${path}`);
  return r.text();
}

/** Poll `fn` until it returns `want` or `ms` pass (a signal is handled asynchronously by a worker). */
async function eventually(fn: () => Promise<string>, want: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    last = await fn();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(last, want);
}

async function startUwsgi(args: string[], env: Record<string, string>, ports: number[]): Promise<Child> {
  const child = start(which('uwsgi')!, [...args, '--master', '--die-on-term', '--workers', '1'], { env });
  try {
    for (const p of ports) await waitForPort(p);
  } catch (e) {
    await child.stop();
    throw new Error(`uWSGI did not start: ${(e as Error).message}\n${child.output()}`);
  }
  return child;
}

describe('interop: our client against a real uWSGI 2.0.21 server', () => {
  test('remote cache get/set/update/exists/del/num/get_into, named and default caches, big values', async ({ skip }) => {
    const missing = needs('uwsgi');
    if (missing) skip(missing);
    const [port, http] = [await freePort(), await freePort()];
    const server = await startUwsgi([
      '--plugin', 'python3,cache', '--socket', `127.0.0.1:${port}`, '--http-socket', `127.0.0.1:${http}`,
      '--wsgi-file', fixture('uwsgi_server.py'), '--cache2', 'name=default,items=100,blocksize=65536',
      '--cache2', 'name=mycache,items=10,blocksize=1024',
    ], {}, [port, http]);
    try {
      const a = `127.0.0.1:${port}`;
      const def = `default@${a}`;
      assert.equal(await uwsgi.cache_set('k', 'hello', 0, def), true);
      assert.equal(await uwsgi.cache_set('k', 'other', 0, def), null, 'set does not overwrite a live key (uWSGI)');
      assert.equal(text(await uwsgi.cache_get('k', def)), 'hello');
      assert.equal(await get(http, '/cache-get?default&k'), 'hello', 'the value is in the real uWSGI cache');
      assert.equal(await uwsgi.cache_update('k', enc('world'), 60, def), true);
      assert.equal(text(await uwsgi.cache_get('k', `@${a}`)), 'world', "'@addr' is the server's default cache");
      assert.equal(await uwsgi.cache_exists('k', def), true);
      const buf = new Uint8Array(3);
      assert.equal(await uwsgi.cache_get_into('k', buf, def), 5);
      assert.equal(text(buf), 'wor');
      const counter = new Uint8Array(8);
      new DataView(counter.buffer).setBigInt64(0, 1234567890123n, true);
      assert.equal(await uwsgi.cache_update('n', counter, 0, def), true);
      assert.equal(await uwsgi.cache_num('n', def), 1234567890123n);
      throwsUwsgi(() => uwsgi.cache_inc('n', 1, 0, def), 'ERR_UNSUPPORTED');
      const big = new Uint8Array(60_000).map((_, i) => (i * 7) & 0xff);
      assert.equal(await uwsgi.cache_set('big', big, 0, def), true);
      assert.deepEqual(await uwsgi.cache_get('big', def), big);
      assert.equal(await uwsgi.cache_set('m', 'in-mycache', 0, `mycache@${a}`), true);
      assert.equal(text(await uwsgi.cache_get('m', `mycache@${a}`)), 'in-mycache');
      assert.equal(await uwsgi.cache_get('m', def), null, 'caches are separate');
      assert.equal(await uwsgi.cache_get('m', `nope@${a}`), null, 'an unknown cache on the server is a miss');
      assert.equal(await uwsgi.cache_set('toobig', new Uint8Array(2000), 0, `mycache@${a}`), null, 'over the blocksize: refused (uWSGI closes)');
      assert.equal(await uwsgi.cache_del('k', def), true);
      assert.equal(await uwsgi.cache_del('k', def), null);
      assert.equal(await uwsgi.cache_exists('k', def), null);
      assert.equal(await uwsgi.cache_get('k', def), null);
      // No remote cache_clear here: uWSGI 2.0.21's worker sometimes segfaults in
      // uwsgi_cache_del2 serving it (seen with two caches), and then holds the cache
      // lock forever. Its bytes are checked against the captured wire.json exchange
      // in the behaviour suite.
      assert.equal(await uwsgi.cache_del('m', `mycache@${a}`), true);
      assert.equal(await uwsgi.cache_get('m', `mycache@${a}`), null);
    } finally {
      await server.stop();
    }
  });

  test('rpc to Python-registered functions (short and 64-bit replies), signal, spool, ping', async ({ skip }) => {
    const missing = needs('uwsgi');
    if (missing) skip(missing);
    const [port, http] = [await freePort(), await freePort()];
    const spool = tempDir();
    const server = await startUwsgi([
      '--plugin', 'python3,cache,rpc,signal,spooler,ping', '--socket', `127.0.0.1:${port}`, '--http-socket', `127.0.0.1:${http}`,
      '--wsgi-file', fixture('uwsgi_server.py'), '--cache2', 'name=default,items=100,blocksize=1024', '--spooler-external', spool.path,
    ], { SPOOL_DIR: spool.path }, [port, http]);
    try {
      const a = `127.0.0.1:${port}`;
      assert.equal(text(await uwsgi.rpc(a, 'hello', 'a', enc('b'), 'c')), 'hello:a,b,c');
      assert.equal(text(await uwsgi.rpc(a, 'hello', 'a', '', 'c')), 'hello:a,c', 'uWSGI drops empty arguments');
      const long = await uwsgi.rpc(a, 'big', '70000');
      assert.equal(long?.length, 70_000, 'a result over 65535 bytes (173/5 reply)');
      assert.ok(long!.every((b) => b === 0x78));
      assert.equal(await uwsgi.rpc(a, 'nosuch', 'x'), null);
      await clientOf(uwsgi.ctx).signal(17, a);
      await eventually(() => get(http, '/got-signal'), '17');
      await clientOf(uwsgi.ctx).signal(99, a); // no handler: uWSGI still acknowledges
      assert.equal(await clientOf(uwsgi.ctx).spool('spool', a, { task: 'remote', n: 7, spooler: a }), true);
      const files = (await get(http, '/spooled')).split('\n').filter(Boolean);
      assert.equal(files.length, 1);
      // The spool file is the 17 packet uWSGI received: our vars, without the address.
      assert.equal(files[0], '111400000400' + '7461736b' + '0600' + '72656d6f7465' + '0100' + '6e' + '0100' + '37');
      assert.equal((await uwsgi.send_message(a, 100, 0, '')).length, 0, 'ping: 64 00 00 01, no warning text');
      assert.equal(text(await uwsgi.send_message(a, 173, 0, new Uint8Array([5, 0, ...enc('hello'), 1, 0, 0x7a]))), 'hello:z');
      const fd = await uwsgi.connect(a);
      await uwsgi.async_send_message(fd, 173, 0, new Uint8Array([5, 0, ...enc('hello'), 2, 0, ...enc('fd')]));
      const header = await uwsgi.recv_block(fd, 4);
      assert.deepEqual([...header!], [173, 8, 0, 0]);
      assert.equal(text(await uwsgi.recv_block(fd, 8)), 'hello:fd');
      assert.equal(await uwsgi.recv(fd), null, 'uWSGI closes after one management request');
      uwsgi.close(fd);
    } finally {
      await server.stop();
      spool.cleanup();
    }
  });

  test('a stopped server: ERR_CONNECT', async () => {
    const port = await freePort();
    await rejectsUwsgi(uwsgi.cache_get('k', `default@127.0.0.1:${port}`), 'ERR_CONNECT');
    await rejectsUwsgi(uwsgi.rpc(`127.0.0.1:${port}`, 'hello') as Promise<unknown>, 'ERR_CONNECT');
  });
});

const ourServer = KNOWN_OPTIONS.socket?.built && existsSync(join(root, 'examples/hello.js'))
  ? false
  : 'needs our --socket listener and its server side of 111/173/110 (issue 6, protocol branch) and examples/hello.js';

/**
 * Run the Python app's remote calls (uwsgi_client.py, inside a real uWSGI) against the
 * server at `port`, which must serve a default cache, RPC `hello` and signal 17.
 */
async function pythonClientAgainst(port: number, signals: boolean): Promise<void> {
  const http = await freePort();
  const client = await startUwsgi(['--plugin', 'python3', '--http-socket', `127.0.0.1:${http}`, '--wsgi-file', fixture('uwsgi_client.py'),
    '--cache2', 'name=default,items=10'], { TARGET: `127.0.0.1:${port}` }, [http]);
  try {
    const call = (p: string) => get(http, `/${p}`);
    assert.equal(await call('cache_get_missing'), 'None');
    assert.equal(await call('cache_set'), 'True');
    assert.equal(await call('cache_get'), "b'from-python'");
    assert.equal(await call('cache_exists'), 'True');
    assert.equal(await call('cache_update'), 'True');
    assert.equal(await call('cache_get'), "b'updated'");
    assert.equal(await call('cache_set_ttl'), 'True');
    assert.equal(await call('cache_get_ttl'), "b'ttl-value'");
    assert.equal(await call('cache_del'), 'True');
    assert.equal(await call('cache_exists_after_del'), 'None');
    // Our own client sees the same cache as the Python app.
    assert.equal(text(await uwsgi.cache_get('pt', `default@127.0.0.1:${port}`)), 'ttl-value');
    assert.equal(await uwsgi.cache_set('from-node', 'node-value', 0, `default@127.0.0.1:${port}`), true);
    assert.equal(await call('cache_get_node_value'), "b'node-value'");
    assert.equal(await call('rpc'), "b'hello:a,b,c'");
    assert.equal(await call('rpc_noargs'), "b'hello:'");
    assert.equal(await call('rpc_unknown'), 'None');
    if (signals) assert.equal(await call('signal'), 'None', 'uwsgi.signal returns None once the node acknowledged');
    else assert.match(await call('signal'), /^EXC ValueError: node 127\.0\.0\.1:\d+ rejected signal 17$/, 'without a signal subsystem the node answers ff 00 00 00');
  } catch (e) {
    // A failed request to the Python client says little by itself: show what its uWSGI logged.
    throw new Error(`${(e as Error).message}\n--- real uWSGI client (Python app) output ---\n${client.output()}`);
  } finally {
    await client.stop();
  }
}

/** Whether this build has the signals subsystem (issue 5), whose hook answers modifier-110 packets. */
const ourSignals = typeof (uwsgi as unknown as { register_signal?: unknown }).register_signal === 'function';

describe('interop: a real uWSGI 2.0.21 Python app as the client', () => {
  test('control: its calls against a real uWSGI server give the results asserted against ours', async ({ skip }) => {
    const missing = needs('uwsgi');
    if (missing) skip(missing);
    const port = await freePort();
    const http = await freePort();
    const server = await startUwsgi(['--plugin', 'python3,cache,rpc,signal', '--socket', `127.0.0.1:${port}`, '--http-socket', `127.0.0.1:${http}`,
      '--wsgi-file', fixture('uwsgi_server.py'), '--cache2', 'name=default,items=100,blocksize=4096'], { SPOOL_DIR: '/nonexistent' }, [port, http]);
    try {
      await pythonClientAgainst(port, true);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- real uWSGI server output ---\n${server.output()}`);
    } finally {
      await server.stop();
    }
  }, 90_000);

  test(`against OUR server: uwsgi.cache_get/set/update/exists/del(..., "default@127.0.0.1:PORT"), uwsgi.rpc, uwsgi.signal (${ourSignals ? 'acknowledged' : 'refused: no signals subsystem in this build'})`, async ({ skip }) => {
    const missing = needs('uwsgi') || ourServer;
    if (missing) skip(missing);
    const port = await freePort();
    const ours = start(process.execPath, [join(root, 'dist/cli.js'), '--workers', '2', '--socket', `127.0.0.1:${port}`,
      '--cache2', 'name=default,items=100', join(root, 'examples/hello.js')]);
    try {
      try {
        await waitForPort(port);
      } catch (e) {
        throw new Error(`our server did not start: ${(e as Error).message}\n${ours.output()}`);
      }
      await pythonClientAgainst(port, ourSignals);
    } finally {
      await ours.stop();
    }
  }, 90_000);
});
