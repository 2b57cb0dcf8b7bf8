/**
 * The cluster subsystem inside one process, on every runtime: its options,
 * the functions outside a cluster, the datagrams byte for byte (uWSGI's hash
 * values come from its own C code, compiled), cache replication and `sync=`
 * between engines over 127.0.0.1, and a flood of bad datagrams that changes
 * nothing. The multicast membership across hosts is test/cluster/netns.test.ts;
 * real uWSGI is test/cluster/cluster.interop.test.ts.
 */
import { createEngine, serve } from 'uwsgi-wasm';
import {
  CACHE_UDP, MAX_DATAGRAM, allowRule, cachesOf, allowed, applySet, configFromOptions, decodeAnnounce, decodeCacheImage, decodeCacheUpdate,
  decodeReply, djb33x, encodeAnnounce, encodeCacheDel, encodeCacheImage, encodeCacheSet, encodeReply, encodeSubscription,
  imageSize, keysFromFile, murmur2, nodeName, replicationOf, runtime, startCluster,
} from 'uwsgi-wasm/engine';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, test } from 'vitest';
import { assert, rng, throwsUwsgi, until } from '../lib/helpers.ts';
import { freePort, freeUdpPort } from '../lib/interop.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));
const hex = (u8: Uint8Array) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');

/** A UDP socket of the runtime's, to send raw datagrams. */
async function sender() {
  return runtime().openUdp({ host: '127.0.0.1', port: 0 }, () => {});
}

/** uWSGI 2.0.21's own djb33x and murmur2 of these keys (core/hash.c, compiled and run). */
const UWSGI_HASHES: Array<[Uint8Array, number, number]> = [
  [enc('a'), 177604, 2456313694], [enc('ab'), 5860902, 446775395], [enc('abc'), 193409669, 324500635],
  [enc('abcd'), 2087551809, 646393889], [enc('abcde'), 169732868, 155512662], [enc('abcdef'), 1306217442, 645517574],
  [enc('abcdefg'), 155502661, 3611800456], [enc('hello world'), 4173747013, 3742290278], [Uint8Array.of(0xff), 4294789722, 2569799513],
  [enc('aa'), 5860901, 392008230], [enc('été!'), 3904514064, 2369483982], [Uint8Array.of(0x6b, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85), 1127758799, 2336557171],
];

describe('cluster: options', () => {
  test('--cluster, subscriptions, the cache2 replication keys and the legacy options parse as uWSGI names them', () => {
    const c = configFromOptions({
      socket: '10.0.0.2:3031', cluster: '225.1.1.1:1717', 'cluster-freq': 2, 'cluster-tolerance': 5, 'multicast-ttl': 3,
      'subscribe-to': ['10.0.0.9:2626:example.com', '10.0.0.9:2626:api.example.com:8000,5', '=0=10.0.0.9:2626:other', '1.2.3.4:99=10.0.0.9:2626:k'],
      subscribe2: 'server=10.0.0.9:2626,key=k2,addr=10.0.0.2:4000,weight=7,modifier1=30,sni_key=/k.pem',
      weight: 3, cache2: 'name=c,items=10,nodes=10.0.0.3:4000;10.0.0.4:4000,udp=0.0.0.0:4000,sync=10.0.0.3:3031',
      'cache-udp-allow': ['10.0.0.0/24', '::1'],
    });
    assert.deepEqual(c.cluster.group, { text: '225.1.1.1:1717', host: '225.1.1.1', port: 1717, broadcast: false });
    assert.equal(c.cluster.announce, '10.0.0.2:3031');
    assert.deepEqual([c.cluster.freq, c.cluster.tolerance, c.cluster.multicastTtl, c.cluster.weight], [2, 5, 3, 3]);
    const s = c.cluster.subscriptions;
    assert.deepEqual(s.map((x) => [x.server.host, x.server.port, x.key, x.address, x.modifier1, x.weight]), [
      ['10.0.0.9', 2626, 'example.com', '10.0.0.2:3031', 0, null],
      ['10.0.0.9', 2626, 'api.example.com:8000', '10.0.0.2:3031', 5, null],
      ['10.0.0.9', 2626, 'other', '10.0.0.2:3031', 0, null],
      ['10.0.0.9', 2626, 'k', '1.2.3.4:99', 0, null],
      ['10.0.0.9', 2626, 'k2', '10.0.0.2:4000', 30, 7],
    ]);
    assert.deepEqual(s[4]!.sni, [['sni_key', '/k.pem']]);
    const cache = c.caches[0]!;
    assert.deepEqual(cache.nodes, [{ host: '10.0.0.3', port: 4000 }, { host: '10.0.0.4', port: 4000 }]);
    assert.deepEqual(cache.udp, [{ host: '0.0.0.0', port: 4000 }]);
    assert.deepEqual(cache.sync, ['10.0.0.3:3031']);
    assert.equal(c.cluster.cacheUdpAllow.length, 2);
    const legacy = configFromOptions({ cache: 10, 'cache-udp-node': '10.0.0.3:4000', 'cache-udp-server': ':4000', 'cache-sync': '10.0.0.3:3031' }).caches[0]!;
    assert.deepEqual([legacy.nodes, legacy.udp, legacy.sync], [[{ host: '10.0.0.3', port: 4000 }], [{ host: '127.0.0.1', port: 4000 }], ['10.0.0.3:3031']]);
    const auto = configFromOptions({ socket: ':3031', 'subscribe-to': '10.0.0.9:2626:k', 'auto-weight': 'true', 'subscribe-freq': 1 });
    assert.deepEqual([auto.cluster.autoWeight, auto.cluster.subscribeFreq, auto.cluster.subscriptions[0]!.address], [true, 1, ':3031']);
  });

  test('what cannot work is refused with the reason', () => {
    throwsUwsgi(() => configFromOptions({ cluster: '225.1.1.1:1717' }), 'ERR_OPTION', /at least one --socket/);
    throwsUwsgi(() => configFromOptions({ socket: ':3031', cluster: '10.0.0.1:1717' }), 'ERR_OPTION', /not an IPv4 multicast group/);
    throwsUwsgi(() => configFromOptions({ socket: ':3031', cluster: '225.1.1.1' }), 'ERR_OPTION', /needs a port/);
    throwsUwsgi(() => configFromOptions({ socket: ':3031', cluster: '225.1.1.1:1', 'cluster-freq': 5, 'cluster-tolerance': 5 }), 'ERR_OPTION', /must be longer than 'cluster-freq'/);
    throwsUwsgi(() => configFromOptions({ 'subscribe-to': '10.0.0.9:2626:k' }), 'ERR_OPTION', /nothing to subscribe/);
    throwsUwsgi(() => configFromOptions({ socket: ':1', 'subscribe-to': '10.0.0.9:2626' }), 'ERR_OPTION', /SERVER:PORT:KEY/);
    throwsUwsgi(() => configFromOptions({ socket: ':1', 'subscribe-to': '/run/sub.sock:k' }), 'ERR_UNSUPPORTED', /unix datagram/);
    throwsUwsgi(() => configFromOptions({ socket: ':1', 'subscribe-to': '10.0.0.9:2626:k,0,SHA1:/key.pem' }), 'ERR_UNSUPPORTED', /signed subscriptions/);
    throwsUwsgi(() => configFromOptions({ socket: ':1', subscribe2: 'server=10.0.0.9:2626' }), 'ERR_OPTION', /needs server= and key=/);
    throwsUwsgi(() => configFromOptions({ socket: ':1', subscribe2: 'server=10.0.0.9:2626,key=k,nope=1' }), 'ERR_OPTION', /unknown key 'nope'/);
    throwsUwsgi(() => configFromOptions({ socket: ':1', subscribe2: 'server=10.0.0.9:2626,key=k,socket=4' }), 'ERR_OPTION', /no socket 4/);
    throwsUwsgi(() => configFromOptions({ cache2: 'name=c,items=4,nodes=/tmp/x.sock' }), 'ERR_UNSUPPORTED', /unix socket path/);
    throwsUwsgi(() => configFromOptions({ cache2: 'name=c,items=4,udp=nohost' }), 'ERR_OPTION', /host:port/);
    throwsUwsgi(() => configFromOptions({ 'cache-udp-node': '10.0.0.1:1' }), 'ERR_OPTION', /legacy cache/);
    throwsUwsgi(() => configFromOptions({ 'cache-udp-allow': '10.0.0.300' }), 'ERR_OPTION', /not an IP address/);
    throwsUwsgi(() => configFromOptions({ 'cache-udp-allow': '10.0.0.0/33' }), 'ERR_OPTION', /outside 0..32/);
  });

  test('--cache-udp-allow: addresses and networks, IPv4 seen as IPv6 too; empty allows everybody', () => {
    const rules = ['10.1.0.0/16', '192.168.1.7', 'fd00::/8'].map(allowRule);
    assert.equal(allowed(rules, '10.1.200.3'), true);
    assert.equal(allowed(rules, '10.2.0.1'), false);
    assert.equal(allowed(rules, '192.168.1.7'), true);
    assert.equal(allowed(rules, '192.168.1.8'), false);
    assert.equal(allowed(rules, '::ffff:10.1.0.9'), true);
    assert.equal(allowed(rules, 'fd12::1'), true);
    assert.equal(allowed(rules, 'fe80::1'), false);
    assert.equal(allowed(rules, 'garbage'), false);
    assert.equal(allowed([], 'anything'), true);
    assert.equal(allowed([allowRule('0.0.0.0/0')], '8.8.8.8'), true);
  });
});

describe('cluster: functions outside a cluster', () => {
  test("cluster() is null, no nodes, no best node, this node's host name; arguments are checked", async () => {
    const u = createEngine({}).uwsgi;
    assert.equal(u.cluster(), null);
    assert.deepEqual(u.cluster_nodes(), []);
    assert.equal(u.cluster_best_node(), null);
    assert.equal(u.cluster_node_name(), u.ctx.shared.hostname);
    assert.equal(u.cluster_node_name('10.0.0.1:3031'), null);
    throwsUwsgi(() => u.cluster_node_name(3 as unknown as string), 'ERR_ARG_TYPE', /node must be a string/);
    throwsUwsgi(() => (u.cluster as (a: number) => unknown)(1), 'ERR_ARG_COUNT');
    throwsUwsgi(() => u.send_multicast_message(1 as unknown as string, 'x'), 'ERR_ARG_TYPE', /group must be a string/);
    throwsUwsgi(() => u.send_multicast_message('225.1.1.1:1717', 5 as unknown as string), 'ERR_ARG_TYPE', /message must be/);
    throwsUwsgi(() => u.send_multicast_message('nohost', 'x'), 'ERR_VALUE_RANGE', /host:port/);
    throwsUwsgi(() => u.send_multicast_message('225.1.1.1:1717', new Uint8Array(MAX_DATAGRAM)), 'ERR_VALUE_RANGE', /does not fit one datagram/);
    throwsUwsgi(() => u.send_multicast_message('225.1.1.1:1717', 'x', 0), 'ERR_VALUE_RANGE', /timeout/);
    // To a plain address where nobody answers: the call waits its timeout and resolves with no reply.
    const port = await freeUdpPort();
    assert.deepEqual(await u.send_multicast_message(`127.0.0.1:${port}`, 'anyone?', 0.2), []);
  });
});

describe('cluster: datagrams', () => {
  test("uWSGI's djb33x and murmur2 (its murmur2 reads the tail from the key's start), as its own C code computes them", () => {
    for (const [key, d, m] of UWSGI_HASHES) {
      assert.equal(djb33x(key), d, `djb33x of ${hex(key)}`);
      assert.equal(murmur2(key), m, `murmur2 of ${hex(key)}`);
    }
  });

  test('cache set and delete datagrams, byte for byte; what uWSGI sends decodes; every bad size is refused', () => {
    const set = encodeCacheSet(enc('k1'), enc('value1'), 1700000000)!;
    assert.equal(hex(set), '6f18000a' + '02006b31' + '060076616c756531' + '0a0031373030303030303030');
    assert.equal(hex(encodeCacheSet(enc('k'), enc('v'), 0)!), '6f09000a' + '01006b' + '010076' + '010030');
    // Ours carries two zero bytes after the key, so uWSGI 2.0.21's too-strict size check lets it through.
    assert.equal(hex(encodeCacheDel(enc('k1'))!), '6f06000b' + '02006b31' + '0000');
    const limits = { keysize: 8, maxValue: 16 };
    assert.deepEqual(decodeCacheUpdate(set, limits), { op: 'set', key: enc('k1'), value: enc('value1'), expires: 1700000000 });
    // uWSGI's own delete (no padding), and a set without the expiry field.
    assert.deepEqual(decodeCacheUpdate(Uint8Array.of(0x6f, 4, 0, 11, 2, 0, 0x6b, 0x31), limits), { op: 'del', key: enc('k1') });
    assert.deepEqual(decodeCacheUpdate(Uint8Array.of(0x6f, 6, 0, 10, 1, 0, 0x6b, 1, 0, 0x76), limits), { op: 'set', key: enc('k'), value: enc('v'), expires: 0 });
    const bad: Array<[string, Uint8Array]> = [
      ['short', Uint8Array.of(0x6f, 0, 0)],
      ['wrong modifier1', Uint8Array.of(0x70, 4, 0, 11, 2, 0, 0x6b, 0x31)],
      ['unknown modifier2', Uint8Array.of(0x6f, 4, 0, 12, 2, 0, 0x6b, 0x31)],
      ['size larger than the datagram', Uint8Array.of(0x6f, 9, 0, 11, 2, 0, 0x6b, 0x31)],
      ['size smaller than the datagram', Uint8Array.of(0x6f, 3, 0, 11, 2, 0, 0x6b, 0x31)],
      ['empty key', Uint8Array.of(0x6f, 2, 0, 11, 0, 0)],
      ['key past the end', Uint8Array.of(0x6f, 4, 0, 11, 9, 0, 0x6b, 0x31)],
      ['key over keysize', encodeCacheDel(enc('123456789'))!],
      ['value over the cache', encodeCacheSet(enc('k'), new Uint8Array(17), 0)!],
      ['empty value', Uint8Array.of(0x6f, 7, 0, 10, 1, 0, 0x6b, 0, 0, 1, 0, 0x30)],
      ['value past the end', Uint8Array.of(0x6f, 6, 0, 10, 1, 0, 0x6b, 9, 0, 0x76)],
      ['expires not digits', Uint8Array.of(0x6f, 9, 0, 10, 1, 0, 0x6b, 1, 0, 0x76, 1, 0, 0x2d)],
      ['expires past the end', Uint8Array.of(0x6f, 9, 0, 10, 1, 0, 0x6b, 1, 0, 0x76, 5, 0, 0x31)],
      ['trailing bytes after a delete', Uint8Array.of(0x6f, 5, 0, 11, 1, 0, 0x6b, 0, 0x31)],
      ['padding that is not zero', Uint8Array.of(0x6f, 5, 0, 11, 1, 0, 0x6b, 1, 0)],
    ];
    for (const [what, d] of bad) assert.equal(decodeCacheUpdate(d, limits), null, what);
    assert.equal(encodeCacheSet(enc('k'), new Uint8Array(MAX_DATAGRAM), 0), null, 'a value that does not fit one datagram is not sent');
  });

  test('announce, reply and subscription packets: uWSGI 1.x/2.0 keys in their order', () => {
    const a = encodeAnnounce({ hostname: 'h1', address: '10.0.0.2:3031', workers: 2, requests: 10, load: 1 });
    assert.deepEqual([a[0], a[3]], [95, 0]);
    assert.deepEqual(decodeAnnounce(a.subarray(4)), { hostname: 'h1', address: '10.0.0.2:3031', workers: 2, requests: 10, load: 1 });
    assert.equal(encodeAnnounce({ hostname: 'h1', address: 'a:1', workers: 1, requests: 0, load: 0 }, true)[3], 1, 'leaving: 95/1');
    assert.equal(decodeAnnounce(encodeAnnounce({ hostname: 'h', address: '', workers: 1, requests: 0, load: 0 }).subarray(4)), null, 'no address: ignored');
    assert.equal(decodeAnnounce(enc('garbage')), null);
    const r = encodeReply({ node: ':3031', name: 'h', reply: enc('pong') });
    assert.deepEqual([r[0], r[3]], [74, 1]);
    assert.deepEqual(decodeReply(r.subarray(4)), { node: ':3031', name: 'h', reply: enc('pong') });
    const s = encodeSubscription({ key: 'example.com', address: '10.0.0.2:3031', modifier1: 0, modifier2: 0, cores: 2, load: 0, weight: 1 });
    // uWSGI's uwsgi_subscription_ub: e0 <size LE> 00, then key, address, modifier1, modifier2, cores, load, weight.
    assert.equal(hex(s), 'e0640000' + '03006b6579' + '0b006578616d706c652e636f6d' + '0700616464726573730d0031302e302e302e323a33303331'
      + '09006d6f646966696572310100' + '30' + '09006d6f646966696572320100' + '30' + '0500636f726573010032' + '04006c6f6164010030' + '0600776569676874010031');
    assert.equal(encodeSubscription({ key: 'k', address: 'a', modifier1: 0, modifier2: 0, cores: 1, load: 0, weight: 0 }, true)[3], 1, 'unsubscribe: 224/1');
    assert.deepEqual(keysFromFile('# keys\na.com\nb.com,5\n\nc.com,x\n', 0), [{ key: 'a.com', modifier1: 0 }, { key: 'b.com', modifier1: 5 }, { key: 'c.com', modifier1: 0 }]);
    assert.equal(nodeName(':3031', '10.0.0.5'), '10.0.0.5:3031');
    assert.equal(nodeName('0.0.0.0:3031', '10.0.0.5'), '10.0.0.5:3031');
    assert.equal(nodeName('10.0.0.2:3031', '10.0.0.5'), '10.0.0.2:3031');
  });

  test("a cache as uWSGI's image: every item back, chains in uWSGI's buckets, bitmap values in consecutive blocks; bad slots skipped", () => {
    for (const spec of ['name=i,items=20,blocksize=32,keysize=16,hashsize=7', 'name=i,items=20,blocksize=8,blocks=60,bitmap=1,keysize=16,hash=murmur2,hashsize=5']) {
      const u = createEngine({ cache2: spec }).uwsgi;
      const cfg = u.ctx.shared.config.caches[0]!;
      const want = new Map<string, string>();
      for (let i = 0; i < 12; i++) {
        const k = `key-${i}`;
        const v = 'v'.repeat(1 + (i * 5) % (cfg.bitmap ? 30 : 32));
        assert.equal(u.cache_set(k, v, i % 3 === 0 ? 100 : 0), true);
        want.set(k, v);
      }
      const image = encodeCacheImage(u.ctx, 0);
      assert.equal(image.length, imageSize(cfg));
      assert.equal(image.length, 20 * (88 + 16) + (cfg.bitmap ? 60 * 8 : 20 * 32));
      const { items, skipped } = decodeCacheImage(cfg, image);
      assert.equal(skipped, 0);
      assert.deepEqual(new Map(items.map((it) => [text(it.key)!, text(it.value)!])), want);
      assert.ok(items.filter((it) => it.expires > 0).length === 4);
      // Walk the chains as uWSGI's cache_fix does: heads have prev 0, the bucket is hash % hashsize.
      const dv = new DataView(image.buffer);
      const slot = (s: number) => s * (88 + 16);
      const reached = new Set<number>();
      for (let s = 1; s < 20; s++) {
        if (dv.getUint32(slot(s) + 8, true) === 0 || dv.getUint32(slot(s) + 56, true) !== 0) continue;
        const bucket = dv.getUint32(slot(s) + 16, true) % cfg.hashsize;
        for (let n = s; n !== 0; n = dv.getUint32(slot(n) + 64, true)) {
          const key = image.subarray(slot(n) + 88, slot(n) + 88 + dv.getUint32(slot(n) + 8, true));
          assert.equal((cfg.hash === 'murmur2' ? murmur2(key) : djb33x(key)) % cfg.hashsize, bucket, 'every item of a chain is in its bucket');
          reached.add(n);
        }
      }
      assert.equal(reached.size, 12, 'every item is on a chain');
      // A slot claiming a key over keysize, a value past the data area: skipped, never copied.
      const broken = image.slice();
      const bdv = new DataView(broken.buffer);
      const first = [...reached][0]!;
      bdv.setUint32(slot(first) + 8, 999, true);
      const second = [...reached][1]!;
      bdv.setUint32(slot(second) + 32, 1e6, true);
      assert.equal(decodeCacheImage(cfg, broken).skipped, 2);
      throwsUwsgi(() => decodeCacheImage(cfg, image.subarray(1)), 'ERR_LAYOUT', /image of/);
    }
  });
});

describe('cluster: cache replication between engines over 127.0.0.1', () => {
  test('sets, updates, counters and deletes reach the peer with their absolute expiry; the peer does not send them on', async () => {
    const port = await freeUdpPort();
    const back = await freeUdpPort();
    const a = createEngine({ cache2: `name=c,items=100,blocksize=1024,nodes=127.0.0.1:${port},udp=127.0.0.1:${back}` }).uwsgi;
    const b = createEngine({ cache2: `name=c,items=100,blocksize=1024,udp=127.0.0.1:${port},nodes=127.0.0.1:${back}` }).uwsgi;
    const sb = await startCluster(b);
    const sa = await startCluster(a);
    try {
      assert.equal(a.cache_set('k1', 'v1', 100, 'c'), true);
      await until(() => text(b.cache_get('k1', 'c')) === 'v1', 5000, 'k1 on the peer');
      assert.equal(a.cache_update('k1', 'v2', 0, 'c'), true);
      await until(() => text(b.cache_get('k1', 'c')) === 'v2', 5000, 'the update on the peer');
      assert.equal(a.cache_inc('n', 5, 0, 'c'), true);
      assert.equal(a.cache_inc('n', 2, 0, 'c'), true);
      await until(() => b.cache_num('n', 'c') === 7n, 5000, 'the counter (its value, where uWSGI sends the delta)');
      assert.equal(a.cache_set('big', new Uint8Array(1000).fill(7), 0, 'c'), true);
      await until(() => b.cache_get('big', 'c')?.length === 1000, 5000, 'a 1000-byte value');
      // The peer applies with the expiry as it was computed on the writer (absolute), not again relative to its own clock.
      assert.equal(a.cache_set('t', 'x', 50, 'c'), true);
      await until(() => b.cache_exists('t', 'c') === true);
      const ea = cachesOf(a.ctx).readWithExpiry(0, enc('t'))!.expires;
      assert.ok(ea > Date.now() / 1000 + 40);
      assert.equal(cachesOf(b.ctx).readWithExpiry(0, enc('t'))!.expires, ea);
      assert.equal(a.cache_del('k1', 'c'), true);
      await until(() => b.cache_get('k1', 'c') === null, 5000, 'the delete on the peer');
      // Writes the peer applied are not sent back (uWSGI's LOCAL flag): a's receiver got nothing.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(sa.receiver!.stats.get(0)!.applied, 0);
      assert.ok(sb.receiver!.stats.get(0)!.applied >= 7);
      assert.equal(sb.receiver!.stats.get(0)!.dropped, 0);
      // The other way round, with b as the writer.
      assert.equal(b.cache_set('from-b', 'yes', 0, 'c'), true);
      await until(() => text(a.cache_get('from-b', 'c')) === 'yes', 5000, 'a write of the peer');
      assert.ok(replicationOf(a.ctx).stats.sent >= 7);
      // clear is not replicated (uWSGI sends deletes of an empty key that match nothing).
      assert.equal(b.cache_clear('c'), true);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(text(a.cache_get('from-b', 'c')), 'yes');
    } finally {
      await sa.stop();
      await sb.stop();
    }
  });

  test('cache_touch, cache_cas, cache_update_with (store and delete) and keepTtl updates reach the peer too', async () => {
    const port = await freeUdpPort();
    const a = createEngine({ cache2: `name=c,items=100,blocksize=1024,nodes=127.0.0.1:${port}` }).uwsgi;
    const b = createEngine({ cache2: `name=c,items=100,blocksize=1024,udp=127.0.0.1:${port}` }).uwsgi;
    const sb = await startCluster(b);
    const sa = await startCluster(a);
    const expires = (u: typeof a, k: string) => cachesOf(u.ctx).readWithExpiry(0, enc(k))?.expires;
    try {
      assert.equal(a.cache_set('k', 'v1', 0, 'c'), true);
      await until(() => text(b.cache_get('k', 'c')) === 'v1', 5000, 'k on the peer');
      assert.equal(a.cache_cas('k', 'v1', 'v2', undefined, 'c'), true);
      await until(() => text(b.cache_get('k', 'c')) === 'v2', 5000, 'the swap on the peer');
      assert.equal(a.cache_cas('k', 'nope', 'v3', undefined, 'c'), null);
      assert.equal(text(a.cache_update_with('k', (v) => `${text(v)}+`, undefined, 'c')), 'v2+');
      await until(() => text(b.cache_get('k', 'c')) === 'v2+', 5000, 'update_with on the peer');
      assert.equal(a.cache_touch('k', 100, 'c'), true);
      await until(() => (expires(b, 'k') ?? 0) > 0, 5000, 'the new expiry on the peer');
      assert.equal(expires(b, 'k'), expires(a, 'k'));
      assert.equal(a.cache_update('k', 'v4', 0, 'c', { keepTtl: true }), true);
      await until(() => text(b.cache_get('k', 'c')) === 'v4', 5000, 'the keepTtl update on the peer');
      assert.equal(expires(b, 'k'), expires(a, 'k'));
      assert.equal(a.cache_update_with('k', () => null, undefined, 'c'), null);
      await until(() => b.cache_get('k', 'c') === null, 5000, 'the delete by update_with on the peer');
    } finally {
      await sa.stop();
      await sb.stop();
    }
  });

  test('--cache-udp-allow: writes from other senders are counted and dropped', async () => {
    const port = await freeUdpPort();
    const b = createEngine({ cache2: `name=c,items=10,udp=127.0.0.1:${port}`, 'cache-udp-allow': '10.9.9.0/24' }).uwsgi;
    const s = await startCluster(b);
    const tx = await sender();
    try {
      await tx.send(encodeCacheSet(enc('k'), enc('v'), 0)!, '127.0.0.1', port);
      await until(() => s.receiver!.stats.get(0)!.denied === 1);
      assert.equal(b.cache_get('k', 'c'), null);
    } finally {
      await tx.close();
      await s.stop();
    }
    const port2 = await freeUdpPort();
    const b2 = createEngine({ cache2: `name=c,items=10,udp=127.0.0.1:${port2}`, 'cache-udp-allow': '127.0.0.1' }).uwsgi;
    const s2 = await startCluster(b2);
    const tx2 = await sender();
    try {
      await tx2.send(encodeCacheSet(enc('k'), enc('v'), 0)!, '127.0.0.1', port2);
      await until(() => text(b2.cache_get('k', 'c')) === 'v');
    } finally {
      await tx2.close();
      await s2.stop();
    }
  });

  test('a flood of bad and oversized datagrams changes nothing and crashes nothing; a good one after it applies', async () => {
    const port = await freeUdpPort();
    const b = createEngine({ cache2: `name=c,items=50,blocksize=64,keysize=16,udp=127.0.0.1:${port}` }).uwsgi;
    for (let i = 0; i < 20; i++) b.cache_set(`keep-${i}`, `value-${i}`, 0, 'c');
    const before = new Map(b.cache_keys('c').map((k) => [text(k)!, text(b.cache_get(k, 'c'))!]));
    const s = await startCluster(b);
    const tx = await sender();
    const random = rng(17);
    const byte = () => Math.floor(random() * 256);
    let sent = 0;
    try {
      const shapes: Array<() => Uint8Array> = [
        // Noise of any length, up to the largest datagram.
        () => Uint8Array.from({ length: Math.floor(random() * 2000) }, byte),
        () => new Uint8Array(MAX_DATAGRAM).fill(0x6f),
        // Well-framed, with sizes over the cache's limits.
        () => encodeCacheSet(new Uint8Array(17).fill(0x41), enc('v'), 0)!,
        () => encodeCacheSet(enc('keep-1'), new Uint8Array(65).fill(1), 0)!,
        () => encodeCacheSet(enc('keep-2'), new Uint8Array(60000).fill(2), 0)!,
        // A good packet cut short, or with its size field lying.
        () => encodeCacheSet(enc('keep-3'), enc('evil'), 0)!.subarray(0, 5 + Math.floor(random() * 10)),
        () => { const d = encodeCacheSet(enc('keep-4'), enc('evil'), 0)!; d[1] = (d[1]! + 1 + (byte() % 255)) & 0xff; return d; },
        () => { const d = encodeCacheDel(enc('keep-5'))!; d[4] = 200; return d; },
        () => { const d = encodeCacheSet(enc('keep-6'), enc('evil'), 0)!; d[d.length - 1] = 0x2f; return d; },
      ];
      const big = new Set([1, 4]);
      const st = s.receiver!.stats.get(0)!;
      for (let round = 0; round < 400; round++) {
        const batch: Array<Promise<void>> = [];
        // The 60 KB ones every tenth round: a few of them fill the kernel's receive buffer.
        shapes.forEach((make, i) => { if (!big.has(i) || round % 10 === 0) { batch.push(tx.send(make(), '127.0.0.1', port)); sent++; } });
        await Promise.all(batch);
        // Paced, so the receive buffer keeps them: the receiver must read and refuse them, not just miss them.
        if (round % 10 === 9) await until(() => st.dropped >= sent * 0.9, 5000, 'the receiver to keep up');
      }
      // Datagrams from one socket arrive in order: once this one is applied, every earlier one was handled.
      await tx.send(encodeCacheSet(enc('after'), enc('fine'), 0)!, '127.0.0.1', port);
      await until(() => text(b.cache_get('after', 'c')) === 'fine', 10_000, 'a good datagram after the flood');
      assert.equal(st.applied, 1, 'only the good datagram was applied');
      assert.ok(st.dropped >= sent * 0.9, `${st.dropped} of ${sent} bad datagrams were read and dropped`);
      b.cache_del('after', 'c');
      assert.deepEqual(new Map(b.cache_keys('c').map((k) => [text(k)!, text(b.cache_get(k, 'c'))!])), before, 'the cache is unchanged');
      assert.equal(b.ctx.x.cache_check(0), 0, 'the cache keeps its invariants');
    } finally {
      await tx.close();
      await s.stop();
    }
  }, 60_000);

  test("sync=: a new engine copies a serving engine's cache (our dump, in uWSGI's image); a wrong layout or nobody there fails start", async () => {
    const port = await freePort();
    const src = createEngine({ cache2: 'name=s,items=30,blocksize=128,keysize=32', socket: `127.0.0.1:${port}` }).uwsgi;
    for (let i = 0; i < 25; i++) src.cache_set(`k${i}`, `value number ${i}`, i === 3 ? 1000 : 0, 's');
    const server = await serve(src, { options: { socket: `127.0.0.1:${port}` } });
    try {
      const dst = createEngine({ cache2: `name=s,items=30,blocksize=128,keysize=32,sync=127.0.0.1:1;127.0.0.1:${port}` }).uwsgi;
      const s = await startCluster(dst);
      assert.equal(s.synced.get(0), 25, 'the second node answered after the first refused');
      for (let i = 0; i < 25; i++) assert.equal(text(dst.cache_get(`k${i}`, 's')), `value number ${i}`);
      await s.stop();
      const wrong = createEngine({ cache2: `name=s,items=31,blocksize=128,keysize=32,sync=127.0.0.1:${port}` }).uwsgi;
      let err: unknown;
      try { await startCluster(wrong); } catch (e) { err = e; }
      assert.match(String(err), /items=30 blocksize=128; this cache has items=31/);
      const nobody = createEngine({ cache2: `name=zz,items=30,blocksize=128,keysize=32,sync=127.0.0.1:${port}` }).uwsgi;
      err = undefined;
      try { await startCluster(nobody); } catch (e) { err = e; }
      assert.match(String(err), /sent no dump/);
    } finally {
      await server.close();
    }
  });

  test('a value too large for one datagram is not sent, and the log says so', async () => {
    const port = await freeUdpPort();
    const log = `${tmpdir()}/uwsgi-wasm-cluster-${process.pid}-${port}.log`;
    const a = createEngine({ cache2: `name=c,items=4,blocksize=70000,nodes=127.0.0.1:${port}`, logto: log }).uwsgi;
    const b = createEngine({ cache2: `name=c,items=4,blocksize=70000,udp=127.0.0.1:${port}` }).uwsgi;
    const s = await startCluster(b);
    try {
      const before = replicationOf(a.ctx).stats.failed;
      assert.equal(a.cache_set('huge', new Uint8Array(66_000), 0, 'c'), true, 'stored locally');
      assert.equal(replicationOf(a.ctx).stats.failed, before + 1);
      assert.match(readFileSync(log, 'utf8'), /\[cache-udp-node\] cache 'c': a key of 4 bytes with its value does not fit one datagram; not replicated/);
      assert.equal(a.cache_set('small', 'ok', 0, 'c'), true);
      await until(() => text(b.cache_get('small', 'c')) === 'ok');
      assert.equal(b.cache_get('huge', 'c'), null);
    } finally {
      await s.stop();
      rmSync(log, { force: true });
    }
  });

  test('applySet takes an absolute expiry and refuses what does not fit, changing nothing', () => {
    const u = createEngine({ cache2: 'name=c,items=3,blocksize=8' }).uwsgi;
    const now = Math.floor(Date.now() / 1000);
    assert.equal(applySet(u.ctx, 0, enc('a'), enc('1'), now + 500), true);
    assert.equal(applySet(u.ctx, 0, enc('b'), enc('2'), 0), true);
    assert.equal(applySet(u.ctx, 0, enc('c'), enc('3'), 0), false, 'full (items - 1 usable, as uWSGI)');
    assert.equal(applySet(u.ctx, 0, enc('a'), new Uint8Array(9), 0), false, 'over the block');
    assert.equal(text(u.cache_get('a', 'c')), '1');
    assert.deepEqual(u.cache_keys('c').map(text).sort(), ['a', 'b']);
    assert.equal(CACHE_UDP.SET, 10);
  });
});
