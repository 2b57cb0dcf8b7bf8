/**
 * The master's node serves its worker threads (on Node, Deno and Bun): both
 * workers reach a peer through one connection, messages to a name both
 * registered alternate between them, and the peer's rpc:call reaches each
 * worker's register_rpc function.
 */
import { run, Atom, Pid, Reference, Tuple, type Term } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, untilAtLeast } from '../lib/helpers.ts';
import { FakeEpmd, FakeNode, type Got, type PeerConn, until } from './fake-peer.ts';

const dec = (u: unknown) => new TextDecoder().decode(u as Uint8Array);
type Env = Record<string, string | undefined>;
const env = (globalThis as { process?: { env: Env; pid: number } }).process!;

/** The peer's side, the connection's only reader: answer rex calls (erlang:length) and echo; keep what it sent to the peer's pid, and the rest. */
function servePeer(conn: PeerConn, peer: FakeNode, acks: Term[], others: Got[]): void {
  void (async () => {
    for (;;) {
      let got: Got | null;
      try { got = await conn.next(60_000); } catch { continue; }
      if (!got) return;
      const [op] = got.control.elements;
      const m = got.message;
      if (op === 6 && got.control.at(3) === Atom.of('rex') && m instanceof Tuple) {
        const [, from, req] = m.elements as [Term, Tuple, Tuple];
        const list = req.at(3) as Term[];
        conn.send(new Tuple(2, Atom.of(''), from.at(0)!), new Tuple(from.at(1)!, (list[0] as Term[]).length));
      } else if (op === 6 && got.control.at(3) === Atom.of('echo')) {
        conn.send(new Tuple(2, Atom.of(''), got.control.at(1)!), new Tuple(Atom.of('echo'), m!));
      } else if (op === 2 && (got.control.at(2) as Pid).equals(peer.pid)) {
        acks.push(m!);
      } else others.push(got);
    }
  })();
}

describe('erlang across threads', () => {
  test('workers use the master\'s node: connect, rpc, send and receive; a shared name takes turns; rpc:call reaches each worker', async () => {
    const epmd = await new FakeEpmd().listen();
    const peer = await new FakeNode('peer@127.0.0.1', 'c').listen();
    epmd.nodes.set('peer', peer.port);
    const saved = env.env.ERL_EPMD_PORT;
    env.env.ERL_EPMD_PORT = String(epmd.port);
    const name = `threads${env.pid}`;
    let master: Awaited<ReturnType<typeof run>> | undefined;
    try {
      master = await run({ options: { workers: 2, sharedarea: 1, erlang: `${name}@127.0.0.1`, 'erlang-cookie': 'c' }, app: 'build/tests/fixtures/erlang-worker.js', handleSignals: false });
      assert.ok(epmd.nodes.has(name), 'the master registered the node');
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 8);
      await untilAtLeast(words, 0, 2);
      Atomics.store(words, 1, 1);
      Atomics.notify(words, 1);
      const conn = await peer.nextAccepted(15_000);
      const acks: Term[] = [];
      const others: Got[] = [];
      servePeer(conn, peer, acks, others);
      await untilAtLeast(words, 2, 2);
      const result = (id: number) => JSON.parse(dec(view.slice(66 + (id - 1) * 256, 66 + (id - 1) * 256 + new DataView(view.buffer, view.byteOffset).getUint16(64 + (id - 1) * 256, true)))) as Record<string, unknown>;
      const [r1, r2] = [result(1), result(2)];
      assert.equal(r1.error, undefined, String(r1.error));
      assert.equal(r2.error, undefined, String(r2.error));
      assert.equal(r1.conn, r2.conn, 'one connection per node pair, shared by the threads');
      assert.deepEqual([r1.length, r2.length], [1, 2]);
      // Each worker read one echo (which one is the order of their calls).
      assert.deepEqual([(r1.echoed as unknown[])[0], (r2.echoed as unknown[])[0]], ['echo', 'echo']);
      assert.deepEqual([(r1.echoed as number[])[1], (r2.echoed as number[])[1]].sort(), [1, 2]);
      // The peer sends twice to the name both workers registered: each gets one, and acks it.
      for (const n of [10, 11]) conn.send(new Tuple(6, peer.pid, Atom.of(''), Atom.of(`workers`)), n);
      await untilAtLeast(words, 4, 2);
      await until(() => acks.length === 2, 10_000, 'two acks');
      assert.deepEqual(acks.map((a) => (a as Tuple).at(1)).sort(), [1, 2], 'the two messages went to different workers');
      // rpc:call from the peer (erpc's spawn request) into each worker's RPC function.
      for (const [fn, arg] of [['w1', 'x'], ['w2', 'y']]) {
        const ref = new Reference(peer.atom, peer.creation, [1, 2, fn === 'w1' ? 1 : 2]);
        conn.send(new Tuple(29, ref, peer.pid, peer.pid, new Tuple(Atom.of('erpc'), Atom.of('execute_call'), 4), [Atom.of('monitor')]),
          [ref, Atom.of('any'), Atom.of(fn!), [new TextEncoder().encode(arg!)]]);
        const down = await until(() => others.find((g) => g.control.at(0) === 21 && ref.equals(g.control.at(3))), 10_000, `${fn}'s answer`);
        assert.equal(dec((down.control.at(4) as Tuple).at(2)), `${fn}:${arg}`);
      }
      Atomics.store(words, 3, 1);
      Atomics.notify(words, 3);
      assert.equal(await master.done, 0);
    } finally {
      await master?.stop();
      if (saved === undefined) delete env.env.ERL_EPMD_PORT; else env.env.ERL_EPMD_PORT = saved;
      await peer.close();
      await epmd.close();
    }
  }, 60_000);
});
