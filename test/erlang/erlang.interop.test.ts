/**
 * Our Erlang node against a real `erl` (Debian's erlang-base, OTP 25) and a
 * private `epmd`: messages both ways, `erlang_rpc` into Erlang, `rpc:call`
 * from Erlang into `register_rpc` functions, every type of the mapping
 * round-tripping both ways, the typed failures (another cookie, an unknown
 * node, a killed `erl`), and the CLI's workers on Node, Deno and Bun answering
 * `rpc:call` and messages from `erl`.
 */
import { createEngine, Atom, BitBinary, ErlangFloat, ErlangFun, ErlangRpcError, ImproperList, Pid, Port, Reference, Tuple, type Term, type TermInput, type Uwsgi } from 'uwsgi-wasm';
import { epmdNames, startErlangNode, stopErlangNode, type ErlangNode } from 'uwsgi-wasm/erlang';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi } from '../lib/helpers.ts';
import { freePort, needs, start, waitForPort, which, type Child } from '../lib/interop.ts';

const root = process.cwd();
const enc = (s: string) => new TextEncoder().encode(s);
const text = (u: unknown) => new TextDecoder().decode(u as Uint8Array);
const COOKIE = 'uwsgi-wasm-interop';

/**
 * Erlang's side of the tests: an `erl -name NAME@127.0.0.1` reading one line
 * of expressions at a time from stdin (as UTF-8) and printing `RESULT <term>`
 * (bindings kept between lines).
 */
const REPL = `io:setopts(standard_io, [{encoding, unicode}]), Loop = fun L(B) ->
  case io:get_line('') of
    eof -> halt();
    Line ->
      {R, NB} = try
        {ok, Toks, _} = erl_scan:string(Line),
        {ok, Es} = erl_parse:parse_exprs(Toks),
        {value, V, B2} = erl_eval:exprs(Es, B),
        {V, B2}
      catch C:E -> {{caught, C, E}, B} end,
      io:format("RESULT ~ts~n", [io_lib:print(R, 1, 100000000, -1)]),
      L(NB)
  end
end, Loop(erl_eval:new_bindings()).`;

class Erl {
  readonly name: string;
  readonly proc: ChildProcess;
  #out = '';
  #lines: string[] = [];
  #wake?: () => void;

  constructor(name: string, cookie: string, epmdPort: number) {
    this.name = `${name}@127.0.0.1`;
    this.proc = spawn(which('erl')!, ['-name', this.name, '-setcookie', cookie, '-noshell', '-eval', REPL], {
      env: { ...process.env, ERL_EPMD_PORT: String(epmdPort) }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let partial = '';
    this.proc.stdout!.on('data', (d) => {
      this.#out += d;
      const lines = (partial + String(d)).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('RESULT ')) this.#lines.push(l.slice(7));
      this.#wake?.();
    });
    this.proc.stderr!.on('data', (d) => { this.#out += d; });
    this.proc.once('exit', () => this.#wake?.());
  }

  /** Evaluate `expr` (Erlang expressions ending with `.`) and give the printed result. */
  async eval(expr: string, ms = 30_000): Promise<string> {
    this.proc.stdin!.write(`${expr.replace(/\n/g, ' ')}\n`);
    const deadline = Date.now() + ms;
    while (this.#lines.length === 0) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`erl exited:\n${this.#out}`);
      if (Date.now() > deadline) throw new Error(`erl did not answer '${expr}' within ${ms} ms:\n${this.#out}`);
      await new Promise<void>((r) => { this.#wake = r; setTimeout(r, 100); });
    }
    return this.#lines.shift()!;
  }

  output(): string { return this.#out; }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill(signal);
    await gone;
  }
}

/** A private epmd (so the suite never meets the machine's nodes, and leaves no daemon behind). */
async function startEpmd(): Promise<{ port: number; child: Child }> {
  const port = await freePort();
  const child = start(which('epmd')!, ['-port', String(port)]);
  await waitForPort(port);
  return { port, child };
}

/** Everything one test needs: epmd, an erl, and our node (`js@127.0.0.1`) in a standalone engine. */
async function setup(opts: { cookie?: string; erl?: boolean } = {}): Promise<{ epmd: number; erl?: Erl; u: Uwsgi; node: ErlangNode; logs: string[]; stop(): Promise<void> }> {
  const epmd = await startEpmd();
  const erl = opts.erl === false ? undefined : new Erl(`e${process.pid}`, COOKIE, epmd.port);
  const u = createEngine({ erlang: 'js@127.0.0.1', 'erlang-cookie': opts.cookie ?? COOKIE }).uwsgi;
  const logs: string[] = [];
  try {
    if (erl) assert.equal(await erl.eval('ok.'), 'ok', 'erl answers');
    const node = await startErlangNode(u.ctx, { epmd: { port: epmd.port }, log: (l) => logs.push(l) });
    return {
      epmd: epmd.port, erl, u, node, logs,
      async stop() { await stopErlangNode(u.ctx); await erl?.stop(); await epmd.child.stop(); },
    };
  } catch (e) {
    await erl?.stop();
    await epmd.child.stop();
    throw new Error(`${(e as Error).message}\n${erl?.output() ?? ''}`);
  }
}

describe('interop: our node and a real erl (OTP 25)', () => {
  test('messages both ways: our node gets an erl process\'s echo; erl sends to a process registered with erlang_register_process', async ({ skip }) => {
    const missing = needs('erl', 'epmd');
    if (missing) skip(missing);
    const t = await setup();
    const erl = t.erl!;
    try {
      assert.deepEqual(await epmdNames({ host: '127.0.0.1', port: t.epmd }, 2000).then((n) => n.map(([x]) => x).sort()), ['js', `e${process.pid}`].sort());
      assert.equal(await erl.eval(`register(echo, spawn(fun Loop() -> receive {From, M} -> From ! {echo, M}, Loop() end end)).`), 'true');
      const id = await t.u.erlang_connect(erl.name);
      await t.u.erlang_send_message(id, 'echo', new Tuple(t.node.pid, new Tuple(Atom.of('hello'), 'from js')));
      const echoed = await t.u.erlang_recv_message(id, { timeout: 10 }) as Tuple;
      assert.equal(echoed.at(0), Atom.of('echo'));
      assert.equal(((echoed.at(1) as Tuple).at(0)), Atom.of('hello'));
      assert.equal(text((echoed.at(1) as Tuple).at(1)), 'from js');
      // erl -> a registered process, which answers the sender's pid.
      const got: Term[] = [];
      await t.u.erlang_register_process('jsproc', (m, s) => {
        got.push(m);
        void t.u.erlang_send_message(s.connection, s.from, new Tuple(Atom.of('got'), m));
      });
      assert.match(await erl.eval(`{jsproc, 'js@127.0.0.1'} ! {ping, self(), <<"payload">>}, receive R -> R after 10000 -> timeout end.`), /^\{got,\{ping,<0\.\d+\.0>,<<"payload">>\}\}$/);
      assert.equal(got.length, 1);
      assert.equal((got[0] as Tuple).at(0), Atom.of('ping'));
      assert.ok((got[0] as Tuple).at(1) instanceof Pid);
      // To a name nobody registered: the connection's queue.
      assert.equal(await erl.eval(`{nobody, 'js@127.0.0.1'} ! queued.`), 'queued');
      assert.equal(await t.u.erlang_recv_message(erl.name, { timeout: 10 }), Atom.of('queued'));
    } finally {
      await t.stop();
    }
  }, 90_000);

  test('erlang_rpc: erlang:length/1, lists:reverse/1, a function that raises, an undefined one', async ({ skip }) => {
    const missing = needs('erl', 'epmd');
    if (missing) skip(missing);
    const t = await setup();
    const erl = t.erl!;
    try {
      assert.equal(await t.u.erlang_rpc(erl.name, 'erlang', 'length', [[1, 2, 3]]), 3);
      assert.deepEqual(await t.u.erlang_rpc(erl.name, 'lists', 'reverse', [[1, 'two', Atom.of('three')]]), [Atom.of('three'), enc('two'), 1]);
      assert.equal(await t.u.erlang_rpc(erl.name, 'erlang', 'node', []), Atom.of(erl.name));
      const e = await rejectsUwsgi(t.u.erlang_rpc(erl.name, 'erlang', 'error', [Atom.of('boom')]), 'ERR_BADRPC', /erlang:error on .*\{badrpc, \{'EXIT',\{boom,/);
      assert.ok(e instanceof ErlangRpcError);
      const [exit, [why]] = [(e.reason as Tuple).at(0), ((e.reason as Tuple).at(1) as Tuple).elements];
      assert.deepEqual([exit, why], [Atom.of('EXIT'), Atom.of('boom')]);
      const undef = await rejectsUwsgi(t.u.erlang_rpc(erl.name, 'no_such_module', 'f', []), 'ERR_BADRPC', /undef/);
      assert.equal(((undef as ErlangRpcError).reason as Tuple).at(0), Atom.of('EXIT'));
      // io from the call goes to erl's console (group leader `user`), not to us: the call still returns.
      assert.equal(await t.u.erlang_rpc(erl.name, 'io', 'format', ['from js~n']), Atom.of('ok'));
    } finally {
      await t.stop();
    }
  }, 90_000);

  test('rpc:call from erl reaches register_rpc functions (erpc in OTP 25); an unknown one is undef', async ({ skip }) => {
    const missing = needs('erl', 'epmd');
    if (missing) skip(missing);
    const t = await setup();
    const erl = t.erl!;
    try {
      t.u.register_rpc('hello', (a: Uint8Array, b?: Uint8Array) => enc(`hello ${text(a)}${b ? ` and ${text(b)}` : ''}`));
      t.u.register_rpc('empty', () => null);
      assert.equal(await erl.eval(`rpc:call('js@127.0.0.1', any, hello, [<<"a">>]).`), '<<"hello a">>');
      assert.equal(await erl.eval(`rpc:call('js@127.0.0.1', any, hello, ["str", atom]).`), '<<"hello str and atom">>');
      assert.equal(await erl.eval(`rpc:call('js@127.0.0.1', any, empty, []).`), '<<>>');
      assert.equal(await erl.eval(`rpc:call('js@127.0.0.1', any, nope, []).`), `{badrpc,{'EXIT',{undef,[{any,nope,[],[]}]}}}`);
      assert.match(await erl.eval(`rpc:call('js@127.0.0.1', any, hello, [{tuple}]).`), /^\{badrpc,\{'EXIT',\{uwsgi,<<"argument 1 must be/);
      assert.equal(await erl.eval(`erpc:call('js@127.0.0.1', any, hello, [<<"b">>]).`), '<<"hello b">>');
      assert.equal(await erl.eval(`rpc:cast('js@127.0.0.1', any, hello, [<<"c">>]).`), 'true');
      // The old rex path (gen_server:call to rex), which OTP before 23 used.
      assert.equal(await erl.eval(`gen_server:call({rex, 'js@127.0.0.1'}, {call, any, hello, [<<"d">>], user}).`), '<<"hello d">>');
    } finally {
      await t.stop();
    }
  }, 90_000);

  test('every type of the mapping round-trips both ways', async ({ skip }) => {
    const missing = needs('erl', 'epmd');
    if (missing) skip(missing);
    const t = await setup();
    const erl = t.erl!;
    try {
      // Erlang -> JS -> Erlang: erl sends each term to `mirror`, which sends it back; erl compares with =:=.
      const seen: Term[] = [];
      await t.u.erlang_register_process('mirror', (m, s) => {
        const [from, term] = (m as Tuple).elements;
        seen.push(term!);
        void t.u.erlang_send_message(s.connection, from as Pid, new Tuple(Atom.of('back'), term!));
      });
      const erlTerms = [
        `ok`, `'héllo wörld'`, `''`, `true`, `false`, `0`, `255`, `-1`, `2147483647`, `-2147483648`, `(1 bsl 70)`, `-(1 bsl 300)`, `1.5`, `2.0`, `-0.25`, `1.0e300`,
        `<<>>`, `<<"bytes">>`, `<<0,255,1>>`, `binary:copy(<<7>>, 100000)`, `<<1:3>>`, `<<255, 1:1>>`, `"charlist"`, `[]`, `[1, [2, [3]]]`, `[1024, 2048]`,
        `[1, 2 | tail]`, `[a | <<"b">>]`, `{}`, `{a, {b, {c}}}`, `list_to_tuple(lists:seq(1, 300))`, `lists:seq(1, 70000)`, `#{}`, `#{a => 1, <<"b">> => [2], {c} => #{d => e}}`,
        `self()`, `make_ref()`, `hd(erlang:ports())`, `fun lists:reverse/1`, `fun(X) -> X + 1 end`,
      ];
      assert.equal(await erl.eval(`Mirror = fun(T) -> {mirror, 'js@127.0.0.1'} ! {self(), T}, receive {back, B} -> B =:= T after 10000 -> timeout end end, ok.`), 'ok');
      for (const term of erlTerms) assert.equal(await erl.eval(`Mirror(${term}).`), 'true', `Erlang -> JS -> Erlang: ${term}`);
      // The JS values they arrived as.
      const js = seen;
      assert.equal(js[0], Atom.of('ok'));
      assert.equal(js[1], Atom.of('héllo wörld'));
      assert.deepEqual(js.slice(3, 16), [true, false, 0, 255, -1, 2147483647, -2147483648, 1n << 70n, -(1n << 300n), 1.5, new ErlangFloat(2), -0.25, new ErlangFloat(1e300)]);
      assert.deepEqual(js[17], enc('bytes'));
      assert.equal((js[19] as Uint8Array).length, 100_000);
      assert.ok(js[20] instanceof BitBinary && (js[20] as BitBinary).bits === 3);
      assert.deepEqual(js[22], [...'charlist'].map((c) => c.charCodeAt(0)));
      assert.ok(js[26] instanceof ImproperList);
      assert.equal((js[30] as Tuple).length, 300);
      assert.equal((js[31] as number[]).length, 70_000);
      assert.equal((js[33] as Map<Term, Term>).get(Atom.of('a')), 1);
      assert.ok(js[34] instanceof Pid && js[35] instanceof Reference && js[36] instanceof Port && js[37] instanceof ErlangFun && js[38] instanceof ErlangFun);

      // JS -> Erlang -> JS: erl's `store` echoes what it got and keeps it, so erl can compare it with the Erlang literal.
      assert.equal(await erl.eval(`register(store, spawn(fun() -> (fun Loop(Last) -> receive {get, From} -> From ! {last, Last}, Loop(Last); {From, M} -> From ! {echo, M}, Loop(M) end end)(none) end)).`), 'true');
      const id = await t.u.erlang_connect(erl.name);
      const node = t.node.pid.node;
      const jsTerms: Array<[TermInput, string, Term?]> = [
        [Atom.of('ok'), 'ok'], [Atom.of('héllo wörld'), `'héllo wörld'`], [true, 'true'], [false, 'false'], [0, '0'], [-1, '-1'], [300, '300'],
        [2 ** 40, '(1 bsl 40)'], [1n << 70n, '(1 bsl 70)'], [-(1n << 300n), '-(1 bsl 300)'], [1.5, '1.5'], [new ErlangFloat(2), '2.0'], [1e300, '1.0e300', new ErlangFloat(1e300)],
        [enc('bytes'), '<<"bytes">>'], ['héllo', `<<"héllo"/utf8>>`, enc('héllo')], [new Uint8Array(0), '<<>>'], [new BitBinary(Uint8Array.of(0x20), 3), '<<1:3>>'],
        [[], '[]'], [[1, [2, [3]]], '[1, [2, [3]]]'], [[104, 105], '"hi"'], [new ImproperList([1, 2], Atom.of('t')), '[1, 2 | t]'],
        [new Tuple(), '{}'], [new Tuple(Atom.of('a'), new Tuple(Atom.of('b'))), '{a, {b}}'], [Tuple.from(Array.from({ length: 300 }, (_, i) => i)), 'list_to_tuple(lists:seq(0, 299))'],
        [new Map<Term, Term>([[Atom.of('a'), 1], [enc('b'), [2]]]), '#{a => 1, <<"b">> => [2]}'], [{ k: Atom.of('v') }, '#{k => v}', new Map([[Atom.of('k'), Atom.of('v')]])],
      ];
      for (const [i, [term, literal, expected]] of jsTerms.entries()) {
        await t.u.erlang_send_message(id, 'store', new Tuple(t.node.pid, term));
        const back = await t.u.erlang_recv_message(id, { timeout: 10 }) as Tuple;
        assert.deepEqual(back.at(1), expected ?? term, `JS -> Erlang -> JS: ${literal}`);
        // A fresh variable each time: the REPL keeps bindings, and a bound one would only match the old value.
        assert.equal(await erl.eval(`store ! {get, self()}, receive {last, L${i}} -> L${i} =:= (${literal}) end.`), 'true', `Erlang got ${literal}`);
      }
      // Our pid, a reference and a port of ours pass through erl and come back equal.
      for (const ours of [t.node.pid, new Reference(node, t.node.creation, [1, 2, 3]), new Port(node, 5n, t.node.creation)]) {
        await t.u.erlang_send_message(id, 'store', new Tuple(t.node.pid, ours));
        const back = (await t.u.erlang_recv_message(id, { timeout: 10 }) as Tuple).at(1) as Pid;
        assert.ok(back.equals(ours), `${ours.constructor.name} comes back equal`);
      }
    } finally {
      await t.stop();
    }
  }, 180_000);

  test('failures are typed: another cookie, an unknown node, a killed erl', async ({ skip }) => {
    const missing = needs('erl', 'epmd');
    if (missing) skip(missing);
    const t = await setup({ cookie: 'not-the-cookie' });
    const erl = t.erl!;
    try {
      await rejectsUwsgi(t.u.erlang_connect(erl.name), 'ERR_REJECTED', /handshake: the peer closed the connection after our challenge reply: the cookies differ/);
      assert.equal(await erl.eval(`net_adm:ping('js@127.0.0.1').`), 'pang', 'erl with another cookie is refused too');
      assert.ok(t.logs.some((l) => /tried to connect with a wrong cookie/.test(l)), t.logs.join('\n'));
      await rejectsUwsgi(t.u.erlang_connect('nobody@127.0.0.1'), 'ERR_NOT_FOUND', /epmd at 127.0.0.1:\d+ knows no node named 'nobody'/);
    } finally {
      await t.stop();
    }
    const k = await setup();
    try {
      const id = await k.u.erlang_connect(k.erl!.name);
      const pending = rejectsUwsgi(k.u.erlang_rpc(id, 'timer', 'sleep', [60_000], { timeout: -1 }), 'ERR_CLOSED', /timer:sleep on e\d+@127.0.0.1: .*the connection closed/);
      const waiting = rejectsUwsgi(k.u.erlang_recv_message(id, { timeout: -1 }), 'ERR_CLOSED', /the connection closed/);
      await k.erl!.stop('SIGKILL');
      await pending;
      await waiting;
      // epmd forgets the node with its connection: it is unknown now.
      await rejectsUwsgi(k.u.erlang_connect(k.erl!.name), 'ERR_NOT_FOUND', /knows no node/);
    } finally {
      await k.stop();
    }
  }, 120_000);

  test('the CLI\'s workers on Node, Deno and Bun answer rpc:call and messages from erl', async ({ skip }) => {
    const missing = needs('erl', 'epmd');
    if (missing) skip(missing);
    const app = join(root, 'build/tests/fixtures/erlang-cli-app.js');
    assert.ok(existsSync(app), 'the fixture is built');
    const runtimes = [
      { name: 'node', cmd: process.execPath, pre: [] as string[] },
      { name: 'deno', cmd: join(root, 'node_modules/.bin/deno'), pre: ['run', '-A', '--quiet'] },
      { name: 'bun', cmd: join(root, 'node_modules/.bin/bun'), pre: ['run', '--silent'] },
    ].filter((r) => existsSync(r.cmd));
    assert.ok(runtimes.length >= 1);
    const epmd = await startEpmd();
    const erl = new Erl(`c${process.pid}`, COOKIE, epmd.port);
    try {
      assert.equal(await erl.eval('ok.'), 'ok');
      for (const rt of runtimes) {
        const node = `cli_${rt.name}@127.0.0.1`;
        const cli = start(rt.cmd, [...rt.pre, 'dist/cli.js', '--workers', '2', '--erlang', node, '--erlang-cookie', COOKIE, app], { cwd: root, env: { ERL_EPMD_PORT: String(epmd.port) } });
        try {
          // Registered with epmd, and both workers have loaded the app.
          const deadline = Date.now() + 30_000;
          let answers: string[] = [];
          while (Date.now() < deadline) {
            const names = await epmdNames({ host: '127.0.0.1', port: epmd.port }, 2000).catch(() => []);
            if (names.some(([n]) => n === `cli_${rt.name}`)) {
              const r = await erl.eval(`[rpc:call('${node}', any, F, [<<"x">>]) || F <- [hello1, hello2]].`);
              // Until both workers have registered their function: [<<"hello x from worker 1 ...">>, <<"hello x from worker 2 ...">>].
              const m = /^\[<<"(hello[^"]*)">>,<<"(hello[^"]*)">>\]$/.exec(r);
              answers = m ? [m[1]!, m[2]!] : [r];
              if (m) break;
            }
            await new Promise((r) => setTimeout(r, 300));
          }
          assert.deepEqual(answers, [`hello x from worker 1 on ${rt.name}`, `hello x from worker 2 on ${rt.name}`], `${rt.name}: rpc:call reached each worker\n${cli.output()}`);
          // Both workers registered `jsproc`: two messages, one to each.
          const pongs = await erl.eval(`[begin {jsproc, '${node}'} ! {self(), N}, receive {pong, Rt, W, {_, N}} -> {Rt, W} after 10000 -> timeout end end || N <- [1, 2]].`);
          assert.match(pongs, new RegExp(`^\\[\\{${rt.name},[12]\\},\\{${rt.name},[12]\\}\\]$`), `${rt.name}: the workers' process answered: ${pongs}`);
          assert.notEqual(pongs.match(/\d\}/g)![0], pongs.match(/\d\}/g)![1], `${rt.name}: the two messages went to different workers: ${pongs}`);
        } finally {
          await cli.stop();
        }
      }
    } finally {
      await erl.stop();
      await epmd.child.stop();
    }
  }, 240_000);
});
