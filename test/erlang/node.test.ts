/**
 * The Erlang node against a scripted peer (./fake-peer.ts) on every runtime:
 * the handshake both ways with the spec's bytes, ticks and liveness, what
 * each kind of message reaches, rpc both ways, every failure typed, and bad
 * input from the peer. test/erlang/erlang.interop.test.ts does the same
 * against a real `erl`.
 */
import { createEngine, ErlangRpcError, Atom, Tuple, Pid, Reference, type Uwsgi } from 'uwsgi-wasm';
import { type ErlangNode, type ErlangNodeOverrides, startErlangNode, stopErlangNode, encodeTerm, ImproperList } from 'uwsgi-wasm/erlang';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';
import { FakeEpmd, FakeNode, PEER_FLAGS, type PeerConn, hs, until } from './fake-peer.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (u: unknown) => new TextDecoder().decode(u as Uint8Array);

/** An engine with `--erlang js@127.0.0.1` and its node, with test settings. */
async function ourNode(overrides: ErlangNodeOverrides = {}, name = 'js'): Promise<{ u: Uwsgi; node: ErlangNode; logs: string[]; stop: () => Promise<void> }> {
  const u = createEngine({ erlang: `${name}@127.0.0.1`, 'erlang-cookie': 'c' }).uwsgi;
  const logs: string[] = [];
  const node = await startErlangNode(u.ctx, { epmd: null, log: (l) => logs.push(l), ...overrides });
  return { u, node, logs, stop: () => stopErlangNode(u.ctx) };
}

/** Our node connects to a fake peer (host:port); resolves with both ends. */
async function connected(u: Uwsgi, peer: FakeNode): Promise<{ id: number; conn: PeerConn }> {
  const idP = u.erlang_connect(`127.0.0.1:${peer.port}`);
  const conn = await peer.nextAccepted();
  return { id: await idP, conn };
}

describe('erlang: options', () => {
  test('--erlang NAME[@host] and --erlang-cookie are validated; erlang_node names the node', () => {
    assert.equal(createEngine({ erlang: 'js@127.0.0.1' }).uwsgi.erlang_node, 'js@127.0.0.1');
    const short = createEngine({ erlang: 'js' }).uwsgi;
    assert.match(short.erlang_node!, /^js@[^.@]+$/, 'the short host name, as erl -sname');
    assert.equal(createEngine({}).uwsgi.erlang_node, null);
    throwsUwsgi(() => createEngine({ erlang: 'bad name' }), 'ERR_OPTION', /option 'erlang': 'bad name' is not a node name/);
    throwsUwsgi(() => createEngine({ erlang: 'a@b c' }), 'ERR_OPTION', /invalid host part/);
    throwsUwsgi(() => createEngine({ 'erlang-cookie': 'x' }), 'ERR_OPTION', /needs '--erlang NAME' too/);
    throwsUwsgi(() => createEngine({ erlang: 'js', 'erlang-cookie': 'x'.repeat(256) }), 'ERR_OPTION', /at most 255 characters/);
  });

  test('without --erlang-cookie the cookie is the first line of ~/.erlang.cookie, as erl reads it', async () => {
    const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process!;
    const home = mkdtempSync(join(tmpdir(), 'uwsgi-erlang-home-'));
    const saved = proc.env.HOME;
    proc.env.HOME = home;
    try {
      const u = createEngine({ erlang: 'cookie@127.0.0.1' }).uwsgi;
      await rejectsUwsgi(startErlangNode(u.ctx, { epmd: null, log: () => {} }), 'ERR_OPTION', /no cookie: give --erlang-cookie, or create .*\.erlang\.cookie/);
      writeFileSync(join(home, '.erlang.cookie'), 'SECRETCOOKIE\n');
      const node = await startErlangNode(u.ctx, { epmd: null, log: () => {} });
      assert.equal(node.cookie, 'SECRETCOOKIE');
      await stopErlangNode(u.ctx);
    } finally {
      if (saved === undefined) delete proc.env.HOME; else proc.env.HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('without --erlang every function rejects with ERR_NOT_CONFIGURED; bad arguments are typed', async () => {
    const u = createEngine({}).uwsgi;
    await rejectsUwsgi(u.erlang_connect('a@b'), 'ERR_NOT_CONFIGURED', /--erlang NAME/);
    await rejectsUwsgi(u.erlang_rpc('a@b', 'erlang', 'node', []), 'ERR_NOT_CONFIGURED');
    await rejectsUwsgi(u.erlang_send_message('a@b', 'x', 1), 'ERR_NOT_CONFIGURED');
    await rejectsUwsgi(u.erlang_recv_message('a@b'), 'ERR_NOT_CONFIGURED');
    await rejectsUwsgi(u.erlang_register_process('x', () => {}), 'ERR_NOT_CONFIGURED');
    const e = createEngine({ erlang: 'js@127.0.0.1', 'erlang-cookie': 'c' }).uwsgi;
    await rejectsUwsgi(e.erlang_connect(42 as unknown as string), 'ERR_ARG_TYPE', /address must be/);
    await rejectsUwsgi(e.erlang_recv_message(0), 'ERR_ARG_TYPE', /node must be a connection id/);
    await rejectsUwsgi(e.erlang_send_message(1, 'x', null as never), 'ERR_ARG_TYPE', /cannot encode null/);
    await rejectsUwsgi(e.erlang_rpc(1, 'm', 'f', [], { timeout: 0 }), 'ERR_VALUE_RANGE', /timeout must be > 0/);
    await rejectsUwsgi(e.erlang_register_process('x', 'nope' as never), 'ERR_ARG_TYPE', /callable must be a function/);
    throwsUwsgi(() => (e.erlang_connect as (...a: unknown[]) => unknown)(), 'ERR_ARG_COUNT');
  });
});

describe('erlang: a peer connects to our node', () => {
  test('the OTP 23 handshake as acceptor, ticks answered, rpc:call (erpc and rex) reaches register_rpc', async () => {
    const { u, node, stop } = await ourNode();
    const peer = new FakeNode('e1@127.0.0.1', 'c');
    try {
      u.register_rpc('hello', (a: Uint8Array, b?: Uint8Array) => enc(`hello ${text(a)}${b ? `+${text(b)}` : ''}`));
      const c = await peer.connect(node.port);
      assert.ok(typeof c !== 'string', `handshake refused: ${String(c)}`);
      const conn = c as PeerConn;
      await until(() => node.connections().find((x) => x.peer === 'e1@127.0.0.1' && x.up), 5000, 'the connection up');
      // A tick is answered at once.
      conn.tick();
      await until(() => node.connections().find((x) => x.ticksReceived === 1), 5000, 'the tick counted');
      // OTP 25's rpc:call: erpc's spawn request, answered through the monitor.
      const res = new Reference(peer.atom, peer.creation, [7, 7, 7]);
      const reqId = new Reference(peer.atom, peer.creation, [1, 2, 3]);
      // {29, ReqId, From, GroupLeader, {erpc, execute_call, 4}, [monitor]} + [Res, M, F, Args], as erpc:call sends it.
      conn.send(new Tuple(29, reqId, peer.pid, peer.pid, new Tuple(Atom.of('erpc'), Atom.of('execute_call'), 4), [Atom.of('monitor')]),
        [res, Atom.of('anymod'), Atom.of('hello'), [enc('a'), [98, 99]]]);
      const reply = (await conn.next())!;
      assert.equal(reply.control.elements[0], 31, 'SPAWN_REPLY');
      assert.ok(reply.control.elements[1] instanceof Reference && reqId.equals(reply.control.elements[1]));
      assert.equal(reply.control.elements[3], 2, 'the monitor is set up');
      const spawned = reply.control.elements[4] as Pid;
      assert.ok(spawned instanceof Pid && spawned.node === node.atom);
      const down = (await conn.next())!;
      assert.equal(down.control.elements[0], 21, 'MONITOR_P_EXIT');
      const reason = down.control.elements[4] as Tuple;
      assert.ok(res.equals(reason.elements[0]), 'erpc\'s Res reference comes back');
      assert.equal(reason.elements[1], Atom.of('return'));
      assert.equal(text(reason.elements[2]), 'hello a+bc');
      // The rex form (older nodes, rpc:call with a group leader): {Tag, Reply} back to the caller.
      const tag = new Reference(peer.atom, peer.creation, [9, 9, 9]);
      conn.send(new Tuple(6, peer.pid, Atom.of(''), Atom.of('rex')),
        new Tuple(Atom.of('$gen_call'), new Tuple(peer.pid, new ImproperList([Atom.of('alias')], tag)), new Tuple(Atom.of('call'), Atom.of('m'), Atom.of('hello'), [enc('x')], Atom.of('user'))));
      const rex = (await conn.next())!;
      assert.equal(rex.control.elements[0], 2, 'a SEND to the caller');
      const [replyTag, value] = (rex.message as Tuple).elements;
      assert.ok(replyTag instanceof ImproperList && tag.equals(replyTag.tail), 'the [alias | Ref] tag comes back');
      assert.equal(text(value), 'hello x');
      // An unknown function is rex's undef.
      conn.send(new Tuple(6, peer.pid, Atom.of(''), Atom.of('rex')),
        new Tuple(Atom.of('$gen_call'), new Tuple(peer.pid, tag), new Tuple(Atom.of('call'), Atom.of('m'), Atom.of('nope'), [], Atom.of('user'))));
      const undef = ((await conn.next())!.message as Tuple).elements[1] as Tuple;
      assert.equal(undef.elements[0], Atom.of('badrpc'));
      assert.equal(((undef.elements[1] as Tuple).elements[1] as Tuple).elements[0], Atom.of('undef'));
      // A spawn of anything but erpc's entry points is refused.
      conn.send(new Tuple(29, reqId, peer.pid, peer.pid, new Tuple(Atom.of('os'), Atom.of('cmd'), 1), []), [[108, 115]]);
      const refused = (await conn.next())!;
      assert.equal(refused.control.elements[4], Atom.of('notsup'));
    } finally {
      await stop();
      await peer.close();
    }
  });

  test('messages: to a registered process (with its sender), to our pid and to unknown names (erlang_recv_message)', async () => {
    const { u, node, stop } = await ourNode();
    const peer = new FakeNode('e2@127.0.0.1', 'c');
    try {
      const got: Array<[unknown, string]> = [];
      await u.erlang_register_process('jsproc', (m, s) => { got.push([m, s.node]); });
      await rejectsUwsgi(u.erlang_register_process('rex', () => {}), 'ERR_EXISTS', /rex/);
      const conn = (await peer.connect(node.port)) as PeerConn;
      await until(() => node.connections().some((x) => x.up));
      conn.send(new Tuple(6, peer.pid, Atom.of(''), Atom.of('jsproc')), new Tuple(Atom.of('hi'), 1));
      await until(() => got.length === 1, 5000, 'the registered process called');
      assert.equal((got[0]![0] as Tuple).elements[0], Atom.of('hi'));
      assert.equal(got[0]![1], 'e2@127.0.0.1');
      // A SEND to our pid and a REG_SEND to a name nobody registered wait for erlang_recv_message, in order.
      conn.send(new Tuple(2, Atom.of(''), node.pid), 'one');
      conn.send(new Tuple(6, peer.pid, Atom.of(''), Atom.of('nobody')), [1, 2, 3]);
      const id = node.connections().find((x) => x.up)!.id;
      assert.equal(text(await u.erlang_recv_message(id)), 'one');
      assert.deepEqual(await u.erlang_recv_message('e2@127.0.0.1'), [1, 2, 3]);
      await rejectsUwsgi(u.erlang_recv_message(id, { timeout: 0.2 }), 'ERR_TIMEOUT', /no message from e2@127.0.0.1 within 200 ms/);
      // A monitor of a name nobody has here ends at once with noproc (a gen call to it fails instead of hanging).
      const mref = new Reference(peer.atom, peer.creation, [5, 5, 5]);
      conn.send(new Tuple(19, peer.pid, Atom.of('ghost'), mref));
      const exit = (await conn.next())!;
      assert.deepEqual([exit.control.elements[0], exit.control.elements[4]], [21, Atom.of('noproc')]);
    } finally {
      await stop();
      await peer.close();
    }
  });

  test('a peer with another cookie, an old protocol or missing flags is refused; the node goes on', async () => {
    const { node, logs, stop } = await ourNode();
    const peer = new FakeNode('e3@127.0.0.1', 'c');
    try {
      assert.equal(await peer.connect(node.port, { cookie: 'wrong' }), 'closed');
      await until(() => logs.some((l) => /e3@127.0.0.1 .* tried to connect with a wrong cookie/.test(l)), 5000, 'the log line');
      assert.equal(await peer.connect(node.port, { flags: PEER_FLAGS & ~0x40000n }), 'not_allowed', 'no BIG_CREATION');
      const ok = await peer.connect(node.port);
      assert.ok(typeof ok !== 'string', 'the right cookie still works');
    } finally {
      await stop();
      await peer.close();
    }
  });
});

describe('erlang: our node connects out', () => {
  test('host:port and name@host through EPMD; erlang_rpc results, badrpc as ErlangRpcError; sends to names and pids', async () => {
    const epmd = await new FakeEpmd().listen();
    const peer = await new FakeNode('p1@127.0.0.1', 'c').listen();
    epmd.nodes.set('p1', peer.port);
    const { u, node, stop } = await ourNode({ epmd: { port: epmd.port } });
    try {
      assert.equal(epmd.nodes.get('js'), node.port, 'registered with EPMD');
      assert.equal(node.creation, 7, 'the creation EPMD gave');
      const idP = u.erlang_connect('p1@127.0.0.1');
      const conn = await peer.nextAccepted();
      const id = await idP;
      assert.equal(await u.erlang_connect('p1@127.0.0.1'), id, 'one connection per node');
      // erlang_rpc: REG_SEND to rex with $gen_call; the peer answers {Ref, Result} to our pid.
      const r = u.erlang_rpc(id, 'erlang', 'length', [[1, 2, 3]]);
      const call = (await conn.next())!;
      assert.deepEqual(call.control.elements.slice(0, 1).concat(call.control.elements.slice(2)), [6, Atom.of(''), Atom.of('rex')]);
      const [gen, from, req] = (call.message as Tuple).elements;
      assert.equal(gen, Atom.of('$gen_call'));
      const [caller, ref] = (from as Tuple).elements;
      assert.deepEqual((req as Tuple).elements, [Atom.of('call'), Atom.of('erlang'), Atom.of('length'), [[1, 2, 3]], Atom.of('user')]);
      conn.send(new Tuple(2, Atom.of(''), caller!), new Tuple(ref!, 3));
      assert.equal(await r, 3);
      const bad = u.erlang_rpc('p1@127.0.0.1', 'erlang', 'error', Atom.of('boom'));
      const badCall = ((await conn.next())!.message as Tuple).elements[1] as Tuple;
      const reason = new Tuple(Atom.of('EXIT'), new Tuple(Atom.of('boom'), []));
      conn.send(new Tuple(2, Atom.of(''), badCall.elements[0]!), new Tuple(badCall.elements[1]!, new Tuple(Atom.of('badrpc'), reason)));
      const err = await rejectsUwsgi(bad, 'ERR_BADRPC', /erlang:error on p1@127.0.0.1: \{badrpc, \{'EXIT',\{boom,\[\]\}\}\}/);
      assert.ok(err instanceof ErlangRpcError);
      assert.equal(((err.reason as Tuple).elements[1] as Tuple).elements[0], Atom.of('boom'));
      // A timed-out call's late answer is dropped, not queued.
      const late = u.erlang_rpc(id, 'timer', 'sleep', [10_000], { timeout: 0.1 });
      const lateCall = ((await conn.next())!.message as Tuple).elements[1] as Tuple;
      await rejectsUwsgi(late, 'ERR_TIMEOUT', /timer:sleep on p1@127.0.0.1: no answer within 100 ms/);
      conn.send(new Tuple(2, Atom.of(''), lateCall.elements[0]!), new Tuple(lateCall.elements[1]!, Atom.of('ok')));
      // Sends: to a registered name (REG_SEND from our pid), to a pid (SEND).
      assert.equal(await u.erlang_send_message(id, 'echo', new Tuple(Atom.of('ping'), 'x')), true);
      const toName = (await conn.next())!;
      assert.equal(toName.control.elements[0], 6);
      assert.ok(node.pid.equals(toName.control.elements[1]));
      assert.equal(toName.control.elements[3], Atom.of('echo'));
      await u.erlang_send_message(id, peer.pid, 42);
      const toPid = (await conn.next())!;
      assert.equal(toPid.control.elements[0], 2);
      assert.ok(peer.pid.equals(toPid.control.elements[2]));
      assert.equal(toPid.message, 42);
      await rejectsUwsgi(u.erlang_recv_message(id, { timeout: 0.2 }), 'ERR_TIMEOUT', undefined);
      await stop();
      await until(() => !epmd.nodes.has('js'), 5000, 'the registration to end with the node');
    } finally {
      await stop();
      await peer.close();
      await epmd.close();
    }
  });

  test('connect failures are typed and name the step', async () => {
    const epmd = await new FakeEpmd().listen();
    const peer = await new FakeNode('p2@127.0.0.1', 'c').listen();
    epmd.nodes.set('p2', peer.port);
    const { u, stop } = await ourNode({ epmd: { port: epmd.port } });
    const free = await new FakeEpmd().listen();
    const freePort = free.port;
    await free.close();
    try {
      await rejectsUwsgi(u.erlang_connect('nobody@127.0.0.1'), 'ERR_NOT_FOUND', /erlang_connect: epmd at 127.0.0.1:\d+ knows no node named 'nobody'/);
      await rejectsUwsgi(u.erlang_connect(`127.0.0.1:${freePort}`), 'ERR_CONNECT', /erlang_connect: 127.0.0.1:\d+: cannot connect/);
      peer.acceptMode = 'not_allowed';
      await rejectsUwsgi(u.erlang_connect('p2@127.0.0.1'), 'ERR_REJECTED', /handshake: the peer answered 'not_allowed'/);
      peer.acceptMode = 'close-after-reply';
      await rejectsUwsgi(u.erlang_connect('p2@127.0.0.1'), 'ERR_REJECTED', /closed the connection after our challenge reply: the cookies differ/);
      peer.acceptMode = 'bad-ack';
      await rejectsUwsgi(u.erlang_connect('p2@127.0.0.1'), 'ERR_REJECTED', /challenge ack does not match our cookie/);
      peer.acceptMode = 'silent';
      await rejectsUwsgi(u.erlang_connect('p2@127.0.0.1', { timeout: 0.3 }), 'ERR_TIMEOUT', /the handshake did not finish within/);
      peer.acceptMode = 'ok';
      assert.ok(await u.erlang_connect('p2@127.0.0.1') > 0, 'the node connects once the peer behaves');
    } finally {
      await stop();
      await peer.close();
      await epmd.close();
    }
    // No EPMD at all.
    const lone = await ourNode({ epmd: { port: freePort } }, 'lone');
    try {
      assert.ok(lone.logs.some((l) => /cannot connect .*is epmd running\?.*retrying every 5 s/.test(l)), lone.logs.join('\n'));
      await rejectsUwsgi(lone.u.erlang_connect('x@127.0.0.1'), 'ERR_CONNECT', /erlang_connect: epmd at 127.0.0.1:\d+: cannot connect/);
    } finally {
      await lone.stop();
    }
  });

  test('a name EPMD has already is ERR_EXISTS', async () => {
    const epmd = await new FakeEpmd().listen();
    epmd.nodes.set('taken', 1);
    try {
      const u = createEngine({ erlang: 'taken@127.0.0.1', 'erlang-cookie': 'c' }).uwsgi;
      await rejectsUwsgi(startErlangNode(u.ctx, { epmd: { port: epmd.port }, log: () => {} }), 'ERR_EXISTS', /a node named 'taken' is probably running already/);
    } finally {
      await epmd.close();
    }
  });
});

describe('erlang: liveness and bad input', () => {
  test('ticks go out when idle; a silent peer is dropped and its waiters get ERR_CLOSED', async () => {
    const { u, node, stop } = await ourNode({ tickMs: 600 });
    const peer = await new FakeNode('t1@127.0.0.1', 'c').listen();
    try {
      const { id, conn } = await connected(u, peer);
      const recv = u.erlang_recv_message(id, { timeout: -1 });
      // The peer reads (and so counts our ticks) but never sends.
      const read = conn.next(3000);
      await rejectsUwsgi(recv, 'ERR_CLOSED', /nothing \(not even a tick\) came from the peer in 600 ms: it is gone/);
      assert.equal(await read, null, 'our node closed the connection');
      assert.ok(conn.ticks >= 2, `ticks sent while idle: ${conn.ticks}`);
      assert.equal(node.connections().length, 0);
    } finally {
      await stop();
      await peer.close();
    }
  });

  test('a malformed term, a frame over the limit or a foreign first byte ends that connection with ERR_PROTOCOL, never the node', async () => {
    const { u, node, logs, stop } = await ourNode({ maxFrame: 1024 });
    const peer = await new FakeNode('b1@127.0.0.1', 'c').listen();
    try {
      const cases: Array<[string, (c: PeerConn) => void, RegExp]> = [
        ['a truncated term', (c) => c.sendRaw(Uint8Array.of(0x70, 131, 104, 3, 97, 2)), /a malformed message: erlang term: a tuple announces 3 item\(s\) but only 2/],
        ['trailing bytes', (c) => c.sendRaw(Uint8Array.of(0x70, ...encodeTerm(new Tuple(2, Atom.of(''), node.pid)), ...encodeTerm(1), 0)), /byte\(s\) after the message/],
        ['a frame over the limit', (c) => c.sendRaw(new Uint8Array(2048)), /a frame of 2048 bytes is over the 1024-byte limit/],
        ['no pass-through byte', (c) => c.sendRaw(Uint8Array.of(0x83, 0x6a)), /starts with 131, not 112/],
        ['a control message that is not a tuple', (c) => c.send(Atom.of('x')), /not a tuple starting with an operation/],
        ['a SEND without a message', (c) => c.send(new Tuple(2, Atom.of(''), node.pid)), /a malformed SEND control message/],
      ];
      for (const [what, send, why] of cases) {
        const { id, conn } = await connected(u, peer);
        const waiting = u.erlang_recv_message(id, { timeout: -1 });
        send(conn);
        const e = await rejectsUwsgi(waiting, 'ERR_CLOSED', undefined);
        assert.match(e.message, why, what);
        assert.equal(await conn.next(), null, `${what}: the connection is closed`);
        assert.ok(logs.some((l) => why.test(l)), `${what}: logged`);
      }
      // The node still serves.
      const { id } = await connected(u, peer);
      assert.ok(id > 0);
    } finally {
      await stop();
      await peer.close();
    }
  });

  test('a node that vanishes mid-call fails the pending promises with ERR_CLOSED; unread messages stay readable', async () => {
    const { u, stop } = await ourNode();
    const peer = await new FakeNode('v1@127.0.0.1', 'c').listen();
    try {
      const { id, conn } = await connected(u, peer);
      const call = u.erlang_rpc(id, 'timer', 'sleep', [100_000], { timeout: -1 });
      await conn.next();
      conn.send(new Tuple(6, peer.pid, Atom.of(''), Atom.of('nobody')), 'last words');
      await new Promise((r) => setTimeout(r, 100));
      conn.io.close();
      await rejectsUwsgi(call, 'ERR_CLOSED', /timer:sleep on v1@127.0.0.1: .*the connection closed/);
      assert.equal(text(await u.erlang_recv_message(id)), 'last words');
      await rejectsUwsgi(u.erlang_recv_message(id), 'ERR_CLOSED', /connection \d+ has ended/);
      await rejectsUwsgi(u.erlang_send_message(id, 'x', 1), 'ERR_CLOSED', /has ended/);
      await rejectsUwsgi(u.erlang_recv_message(999), 'ERR_NOT_FOUND', /no Erlang connection 999/);
    } finally {
      await stop();
      await peer.close();
    }
  });

  test('the receive queue of a connection is bounded: past the limit messages are dropped and logged', async () => {
    const { u, logs, stop } = await ourNode({ queueMessages: 3 });
    const peer = await new FakeNode('q1@127.0.0.1', 'c').listen();
    try {
      const { id, conn } = await connected(u, peer);
      for (let i = 0; i < 6; i++) conn.send(new Tuple(6, peer.pid, Atom.of(''), Atom.of('nobody')), i);
      await until(() => logs.some((l) => /receive queue of q1@127.0.0.1 is full \(3 messages/.test(l)), 5000, 'the drop logged');
      assert.deepEqual([await u.erlang_recv_message(id), await u.erlang_recv_message(id), await u.erlang_recv_message(id)], [0, 1, 2]);
      await rejectsUwsgi(u.erlang_recv_message(id, { timeout: 0.2 }), 'ERR_TIMEOUT', undefined);
    } finally {
      await stop();
      await peer.close();
    }
  });

  test('handshake bytes are the spec\'s: send_name, status, challenge reply digest', async () => {
    // The worked example of ../shared/spec/erlang.md: MD5("c" + "2244409146").
    const { digest } = await import('uwsgi-wasm/erlang');
    assert.deepEqual(Array.from(digest('c', 2244409146)), [0xab, 0x6c, 0x2f, 0x2a, 0x35, 0xc6, 0x5c, 0xf6, 0x9f, 0x14, 0xcd, 0xbe, 0x84, 0x92, 0x84, 0xe5]);
    assert.deepEqual(Array.from(digest('c', 0xcafebabe)), [0x72, 0x79, 0xf9, 0x4a, 0x30, 0xbb, 0x93, 0xb8, 0x9e, 0x59, 0x0c, 0x56, 0xff, 0x43, 0x86, 0x42]);
    assert.deepEqual(Array.from(hs(Uint8Array.of(0x73, 0x6f, 0x6b))), [0, 3, 0x73, 0x6f, 0x6b]);
  });
});
