/**
 * The multicast cluster across hosts, on every runtime: three nodes, each in
 * its own network namespace on one bridge (test/cluster/netns.ts), run the
 * CLI with test/fixtures/cluster-app.ts and `--cluster`. Skipped, saying why,
 * where namespaces cannot be made (not root, no iproute2).
 */
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { type Host, type NetChild, type TestNet, createTestNet, eventually, tryGet } from './netns.ts';

const root = process.cwd();
const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
/** The running runtime's executable and the arguments it needs to run a script. */
const self = deno ? { cmd: deno.execPath(), pre: ['run', '-A', '--quiet'] } : { cmd: process.execPath, pre: [] as string[] };

const FREQ = 1;
const TOLERANCE = 4;

/** A group and port of this run's own (runs of several runtimes never share one). */
function groupOf(net: TestNet): string {
  const n = Number(net.gateway.split('.')[2]);
  return `239.193.${n}.1:${17000 + (process.pid % 2000)}`;
}

function startNode(net: TestNet, host: Host, group: string): NetChild {
  return net.run(host, self.cmd, [
    ...self.pre, `${root}/dist/cli.js`, '--workers', '1', '--socket', `${host.ip}:3031`, '--http-socket', `${host.ip}:8080`,
    '--cluster', group, '--cluster-freq', String(FREQ), '--cluster-tolerance', String(TOLERANCE), `${root}/build/tests/fixtures/cluster-app.js`,
  ]);
}

const url = (h: Host, path: string) => `http://${h.ip}:8080${path}`;
const nameOf = (h: Host) => `${h.ip}:3031`;

async function clusterOf(h: Host): Promise<{ cluster: string; name: string; nodes: string[] } | null> {
  const body = await tryGet(url(h, '/cluster'));
  try { return body === null ? null : JSON.parse(body); } catch { return null; }
}

/** Wait until `h` lists exactly `want` (in any order). */
async function seesExactly(h: Host, want: Host[], ms = 20_000): Promise<void> {
  const names = want.map(nameOf).sort();
  await eventually(`${h.ip} sees ${names.join(', ')}`, async () => {
    const c = await clusterOf(h);
    return c !== null && JSON.stringify([...c.nodes].sort()) === JSON.stringify(names);
  }, ms);
}

/** A net of `n` hosts, or the reason it cannot be made (the test skips with it). */
function netOrSkip(n: number, skip: (why: string) => void): TestNet {
  const net = createTestNet(n);
  if ('skip' in net) { skip(net.skip); throw new Error(net.skip); }
  return net;
}

describe('cluster: three nodes on three hosts (network namespaces)', () => {
  test('they see each other; a killed node leaves within the tolerance, a restarted one rejoins, a stopped one leaves at once', async ({ skip }) => {
    const net = netOrSkip(3, skip);
    const [h1, h2, h3] = net.hosts as [Host, Host, Host];
    const group = groupOf(net);
    try {
      const nodes = [startNode(net, h1, group), startNode(net, h2, group), startNode(net, h3, group)];
      for (const h of [h1, h2, h3]) await seesExactly(h, [h1, h2, h3]);
      const c1 = (await clusterOf(h1))!;
      assert.equal(c1.cluster, group);
      assert.equal(JSON.parse((await tryGet(url(h1, `/name?node=${nameOf(h2)}`)))!), (await clusterOf(h2))!.name, "cluster_node_name(node) is that node's host name");
      assert.equal(JSON.parse((await tryGet(url(h1, '/name?node=10.9.9.9:1')))!), null);

      // A crash: no goodbye. The others drop it once it stays silent past the tolerance.
      const killedAt = Date.now();
      await nodes[2]!.kill();
      await seesExactly(h1, [h1, h2], (TOLERANCE + FREQ) * 1000 + 10_000);
      assert.ok(Date.now() - killedAt >= (TOLERANCE - FREQ) * 1000, 'not dropped before it could have been silent for the tolerance');
      await seesExactly(h2, [h1, h2]);
      // The master forgets it too (its next cycle), with uWSGI 1.x's log line.
      await eventually('the death logged', async () => nodes[0]!.output().includes(`by node ${nameOf(h3)}, i assume it is dead`));
      nodes[2] = startNode(net, h3, group);
      for (const h of [h1, h2, h3]) await seesExactly(h, [h1, h2, h3]);

      // A clean stop says goodbye: the others drop it on its leave packet, not after the tolerance.
      const code = await nodes[1]!.stop();
      assert.ok(code === 0 || (deno && code === 'SIGTERM'), `exit ${code}: ${nodes[1]!.output()}`);
      for (const i of [0, 2]) await eventually(`node ${i + 1} heard the leave`, async () => nodes[i]!.output().includes(`node ${nameOf(h2)} left`));
      await seesExactly(h1, [h1, h3]);
      await seesExactly(h3, [h1, h3]);
      assert.match(nodes[0]!.output(), /joined cluster 239\.193\.\d+\.1:\d+/);
    } finally {
      await net.teardown();
    }
  }, 120_000);

  test('cluster_best_node() follows the load each node announces; send_multicast_message gathers every node\'s reply', async ({ skip }) => {
    const net = netOrSkip(3, skip);
    const [h1, h2, h3] = net.hosts as [Host, Host, Host];
    const group = groupOf(net);
    const holds: Array<Promise<string | null>> = [];
    const hold = (h: Host, n: number) => { for (let i = 0; i < n; i++) holds.push(tryGet(url(h, '/hold'), 60_000)); };
    try {
      for (const h of [h1, h2, h3]) startNode(net, h, group);
      for (const h of [h1, h2, h3]) await seesExactly(h, [h1, h2, h3]);
      const best = async (from: Host, n: number) => JSON.parse((await tryGet(url(from, `/best?n=${n}`)))!) as string[];

      // Equal loads: the calls rotate over every node, each picked in turn. A node
      // announces its requests in progress, so an announce sent while one of
      // this test's own requests was on it (or one a busy master has not read
      // yet) briefly makes the loads unequal: wait for six picks in a row taken
      // while the loads were equal. A rotation that is broken never gives them.
      let picks: string[] = [];
      await eventually('ties rotate: six picks from h2 take every node twice', async () => {
        picks = await best(h2, 6);
        const counts = new Map<string, number>();
        for (const p of picks) counts.set(p, (counts.get(p) ?? 0) + 1);
        return counts.size === 3 && [...counts.values()].every((c) => c === 2);
      }).catch((e: Error) => { throw new Error(`${e.message}; last picks ${picks}`); });
      assert.deepEqual([...new Set(picks)].sort(), [h1, h2, h3].map(nameOf).sort());

      // Requests in progress on h1 and h2: h3 is the least loaded, seen from every node.
      hold(h1, 2);
      hold(h2, 1);
      for (const from of [h1, h2, h3]) await eventually(`${from.ip} picks ${h3.ip}`, async () => (await best(from, 3)).every((b) => b === nameOf(h3)));
      // The load moves: h3 busy, h1 idle again.
      hold(h3, 3);
      assert.equal(await tryGet(url(h1, '/release')), '2');
      await eventually(`${h2.ip} picks ${h1.ip}`, async () => (await best(h2, 3)).every((b) => b === nameOf(h1)));

      // One message to the group; every node's multicast_message function answers, this one's too.
      const body = await tryGet(url(h2, '/multicast?msg=ping&timeout=5'), 10_000);
      const replies = JSON.parse(body!) as Array<{ node: string; reply: string }>;
      assert.deepEqual(replies.map((r) => r.node).sort(), [h1, h2, h3].map(nameOf).sort(), body!);
      for (const r of replies) assert.equal(r.reply, `${r.node} got ping`);
    } finally {
      for (const h of [h1, h2, h3]) await tryGet(url(h, '/release'));
      await Promise.all(holds);
      await net.teardown();
    }
  }, 120_000);
});
