/**
 * Our nodes in real uWSGI 2.0.21 deployments, each program on its own test
 * host (network namespaces, test/cluster/netns.ts):
 * - a real fastrouter and HTTP router (uwsgi-core's fastrouter and http
 *   plugins) take our nodes' subscriptions, balance requests over them, and
 *   stop sending to one that stopped (it unsubscribed);
 * - cache replication with a real uWSGI node, both ways, deletes too;
 * - `sync=` in both directions: our node copies a uWSGI cache at start, and a
 *   uWSGI copies ours (our dump in uWSGI's image, murmur2 chains included).
 */
import uwsgi from 'uwsgi-wasm';
import { request } from 'node:http';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { needs, which } from '../lib/interop.ts';
import { type Host, type NetChild, type TestNet, createTestNet, eventually, tryGet } from './netns.ts';

const root = process.cwd();
const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));

function netOrSkip(n: number, skip: (why: string) => void): TestNet {
  const missing = needs('uwsgi');
  if (missing) { skip(missing); throw new Error(missing); }
  const net = createTestNet(n);
  if ('skip' in net) { skip(net.skip); throw new Error(net.skip); }
  return net;
}

/** Our node on `host`: the CLI with the cluster fixture app and `args`. */
function ourNode(net: TestNet, host: Host, args: string[]): NetChild {
  return net.run(host, process.execPath, [`${root}/dist/cli.js`, '--workers', '1', '--socket', `${host.ip}:3031`, '--http-socket', `${host.ip}:8080`, ...args, `${root}/build/tests/fixtures/cluster-app.js`]);
}

/** A real uWSGI on `host` (it stops on SIGINT: SIGTERM would make it reload). */
function realUwsgi(net: TestNet, host: Host, args: string[]): NetChild {
  return net.run(host, which('uwsgi')!, [...args, '--master', '--die-on-term']);
}

/** Resolve once `fn` does not throw. */
async function ready(what: string, fn: () => Promise<unknown>, child: NetChild): Promise<void> {
  try {
    await eventually(what, async () => { try { await fn(); return true; } catch { return false; } }, 20_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${child.output()}`);
  }
}

/** GET / with `Host: host` through the HTTP router; the body. */
function viaHttpRouter(router: string, host: string): Promise<string> {
  const [h, p] = router.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host: h, port: Number(p), path: '/', headers: { host }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** A request through the fastrouter (uwsgi protocol, the key in SERVER_NAME/HTTP_HOST); the HTTP body. */
async function viaFastrouter(router: string, host: string): Promise<string> {
  const reply = await uwsgi.send_message(router, 0, 0, {
    REQUEST_METHOD: 'GET', PATH_INFO: '/', QUERY_STRING: '', SERVER_NAME: host, HTTP_HOST: host, SERVER_PROTOCOL: 'HTTP/1.1',
  }, 5);
  const t = text(reply)!;
  return t.slice(t.indexOf('\r\n\r\n') + 4);
}

describe('interop: our nodes in a real uWSGI 2.0.21 deployment (network namespaces)', () => {
  test('a real fastrouter and HTTP router balance over two of our subscribed nodes and stop sending to one that stopped', async ({ skip }) => {
    const net = netOrSkip(3, skip);
    const [r, a, b] = net.hosts as [Host, Host, Host];
    const fr = `${r.ip}:3017`;
    const http = `${r.ip}:8000`;
    try {
      const router = realUwsgi(net, r, [
        '--plugin', 'fastrouter,http', '--fastrouter', fr, '--fastrouter-subscription-server', `${r.ip}:2626`,
        '--http', http, '--http-subscription-server', `${r.ip}:2627`, '--subscription-tolerance', '5',
      ]);
      const subscribe = (h: Host) => ourNode(net, h, ['--subscribe-to', `${r.ip}:2626:app.example`, '--subscribe2', `server=${r.ip}:2627,key=app.example`, '--subscribe-freq', '1']);
      const nodes = [subscribe(a), subscribe(b)];
      const both = [`hello from ${a.ip}:3031`, `hello from ${b.ip}:3031`];
      // Each router has both nodes once every request of a round lands somewhere and both answer.
      await ready('the fastrouter balances over both', async () => {
        const got = new Set<string>();
        for (let i = 0; i < 6; i++) got.add(await viaFastrouter(fr, 'app.example'));
        if ([...got].sort().join() !== both.join()) throw new Error([...got].join());
      }, router);
      await ready('the HTTP router balances over both', async () => {
        const got = new Set<string>();
        for (let i = 0; i < 6; i++) got.add(await viaHttpRouter(http, 'app.example'));
        if ([...got].sort().join() !== both.map((x) => `200 ${x}`).join()) throw new Error([...got].join());
      }, router);
      // Round robin: consecutive requests alternate between the two nodes.
      const seq = [];
      for (let i = 0; i < 4; i++) seq.push(await viaFastrouter(fr, 'app.example'));
      assert.notEqual(seq[0], seq[1], seq.join());
      assert.match(router.output(), /app\.example => new node/);

      // A clean stop unsubscribes: the routers stop sending to it at once (not after their tolerance).
      assert.equal(await nodes[0]!.stop(), 0, nodes[0]!.output());
      assert.match(nodes[0]!.output(), /unsubscribing from/);
      for (let i = 0; i < 6; i++) {
        assert.equal(await viaFastrouter(fr, 'app.example'), `hello from ${b.ip}:3031`);
        assert.equal(await viaHttpRouter(http, 'app.example'), `200 hello from ${b.ip}:3031`);
      }
    } finally {
      await net.teardown();
    }
  }, 120_000);

  test('cache replication with a real uWSGI node both ways, deletes too; sync= fills our new node from uWSGI and a new uWSGI from ours', async ({ skip }) => {
    const net = netOrSkip(3, skip);
    const [u, o, n] = net.hosts as [Host, Host, Host];
    const U = (c: string, port = 3031) => `${c}@${u.ip}:${port}`;
    const O = (c: string, h = o) => `${c}@${h.ip}:3031`;
    // A murmur2 cache: a uWSGI finds our image's items by its own murmur2 (whose tail differs from the textbook's).
    // Default hashsize: uWSGI 2.0.21's sync clears 65536 hash entries whatever the size, past a smaller table.
    const mcache = 'name=m,items=40,blocksize=64,keysize=32,hash=murmur2';
    try {
      const real = realUwsgi(net, u, [
        '--plugin', 'cache', '--socket', `${u.ip}:3031`,
        '--cache2', `name=c,items=100,blocksize=1024,udp=${u.ip}:4000,nodes=${o.ip}:4000`, '--cache2', mcache,
      ]);
      // The test drives our node's cache over --socket from the host namespace, a non-local peer: let it write.
      const ours = ourNode(net, o, ['--cache2', `name=c,items=100,blocksize=1024,udp=${o.ip}:4000,nodes=${u.ip}:4000`, '--cache-udp-allow', u.ip, '--remote-peers', 'any']);
      await ready('uWSGI answers', () => uwsgi.cache_exists('x', U('c')), real);
      await ready('our node answers', () => uwsgi.cache_exists('x', O('c')), ours);

      // Ours to uWSGI: set, update, a counter, a delete (padded so uWSGI 2.0.21 applies it).
      assert.equal(await uwsgi.cache_set('from-ours', 'one', 100, O('c')), true);
      await eventually('uWSGI has our set', async () => text(await uwsgi.cache_get('from-ours', U('c'))) === 'one');
      assert.equal(await uwsgi.cache_update('from-ours', 'two', 0, O('c')), true);
      await eventually('uWSGI has our update', async () => text(await uwsgi.cache_get('from-ours', U('c'))) === 'two');
      assert.equal(await uwsgi.cache_del('from-ours', O('c')), true);
      await eventually('uWSGI applied our delete', async () => (await uwsgi.cache_get('from-ours', U('c'))) === null);
      // uWSGI to ours.
      assert.equal(await uwsgi.cache_set('from-uwsgi', 'hello', 0, U('c')), true);
      await eventually('our node has uWSGI\'s set', async () => text(await uwsgi.cache_get('from-uwsgi', O('c'))) === 'hello');
      assert.equal(await uwsgi.cache_update('from-uwsgi', 'again', 50, U('c')), true);
      await eventually('our node has uWSGI\'s update', async () => text(await uwsgi.cache_get('from-uwsgi', O('c'))) === 'again');
      assert.equal(await uwsgi.cache_del('from-uwsgi', U('c')), true);
      await eventually('our node applied uWSGI\'s delete', async () => (await uwsgi.cache_get('from-uwsgi', O('c'))) === null);

      // sync=: a new node of ours copies the uWSGI caches at start.
      for (let i = 0; i < 25; i++) assert.equal(await uwsgi.cache_update(`key-${i}`, `value ${i}`, i % 5 === 0 ? 600 : 0, U('c')), true);
      const keys = ['abcde', 'abcdef', 'abcdefg', 'hello', 'k\u0080x', 'été!', 'x', 'yy', 'zzz', 'wwww', 'vvvvv'];
      for (const k of keys) assert.equal(await uwsgi.cache_update(k, `m:${k}`, 0, U('m')), true);
      const fresh = ourNode(net, n, ['--remote-peers', 'any', '--cache2', `name=c,items=100,blocksize=1024,sync=${u.ip}:3031`, '--cache2', `${mcache},sync=${u.ip}:3031`]);
      await ready('the synced node answers', () => uwsgi.cache_exists('x', O('c', n)), fresh);
      assert.match(fresh.output(), /\[cache-sync\] cache 'c': 25 items copied/);
      for (let i = 0; i < 25; i++) assert.equal(text(await uwsgi.cache_get(`key-${i}`, O('c', n))), `value ${i}`);
      for (const k of keys) assert.equal(text(await uwsgi.cache_get(k, O('m', n))), `m:${k}`);

      // sync= the other way: a new uWSGI copies our node's caches (our dump is uWSGI's image).
      const copy = realUwsgi(net, u, ['--plugin', 'cache', '--socket', `${u.ip}:3032`,
        '--cache2', `name=c,items=100,blocksize=1024,sync=${n.ip}:3031`, '--cache2', `${mcache},sync=${n.ip}:3031`]);
      await ready('the uWSGI that synced from us answers', () => uwsgi.cache_exists('x', U('c', 3032)), copy);
      assert.match(copy.output(), /restored 25 items/);
      for (let i = 0; i < 25; i++) assert.equal(text(await uwsgi.cache_get(`key-${i}`, U('c', 3032))), `value ${i}`);
      // Every murmur2 key found again by uWSGI's own hash.
      for (const k of keys) assert.equal(text(await uwsgi.cache_get(k, U('m', 3032))), `m:${k}`, k);
      // Its cache works on: a set, a delete.
      assert.equal(await uwsgi.cache_set('new', 'v', 0, U('m', 3032)), true);
      assert.equal(await uwsgi.cache_del('abcdef', U('m', 3032)), true);
      assert.equal(await uwsgi.cache_get('abcdef', U('m', 3032)), null);
      assert.equal(await tryGet(`http://${n.ip}:8080/`), `hello from ${n.ip}:3031`);
    } finally {
      await net.teardown();
    }
  }, 120_000);
});
