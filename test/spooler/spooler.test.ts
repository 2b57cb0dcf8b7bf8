import { createEngine, serve, type Engine, type Options, type Uwsgi } from 'uwsgi-wasm';
import { encodeVars } from 'uwsgi-wasm/codec';
import { SPOOL_IGNORE, SPOOL_OK, SPOOL_RETRY, SpoolerLoop, decodeSpoolFile, encodeSpoolFile, enqueueSpoolPacket, naturalCompare, parseMarked, spoolPacketHook, spoolerOf, taskDict } from 'uwsgi-wasm/spooler';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wire from '../vectors/wire.json';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';
import { freePort } from '../lib/interop.ts';

const enc = new TextEncoder();
const dec = (u: Uint8Array | undefined) => (u === undefined ? undefined : new TextDecoder().decode(u));
const hex = (u: Uint8Array) => Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const concat = (parts: Uint8Array[]) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let at = 0; for (const p of parts) { out.set(p, at); at += p.length; } return out; };

/** A private directory on tmpfs when there is one (fsync is free there). */
function scratchDir(): { path: string; cleanup(): void } {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = mkdtempSync(join(base, 'uwsgi-spool-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

interface Rig { e: Engine; u: Uwsgi; dir: string; logs: string[]; loop(ident?: number, fn?: Uwsgi['spooler']): { s: Uwsgi; loop: SpoolerLoop }; done(): void }

function rig(opts: Options = {}): Rig {
  const tmp = scratchDir();
  const dir = join(tmp.path, 'spool');
  const e = createEngine({ spooler: dir, 'spooler-quiet': true, ...opts } as Options);
  const logs: string[] = [];
  return {
    e, u: e.uwsgi, dir: e.uwsgi.spoolers![0], logs,
    loop(ident = 1, fn) {
      const s = e.attach('spooler', ident);
      if (fn) s.spooler = fn;
      return { s, loop: new SpoolerLoop(s, { log: (l) => logs.push(l) }) };
    },
    done: tmp.cleanup,
  };
}

const taskFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('uwsgi_spoolfile_on_'));
const spoolCases = (wire as { cases: Array<{ name: string; call?: string; hex: string; observed_file_name?: string }> }).cases.filter((c) => c.name === 'spool-file' && c.hex);

describe('spooler: spool files', () => {
  test('the recorded uWSGI files decode, and the same calls here write the same bytes', () => {
    assert.equal(spoolCases.length, 2);
    const r = rig();
    try {
      // uwsgi.spool({b'task': b'one', b'n': b'1'}, body=b'BODY-BYTES'): uWSGI 2.0 ignores keyword
      // arguments beside a dict, so its file has no body; the dict alone gives those bytes here.
      const [one, two] = spoolCases;
      const f1 = decodeSpoolFile(unhex(one.hex));
      assert.ok(!('error' in f1));
      assert.deepEqual(f1.vars.map(([k, v]) => [dec(k), dec(v)]), [['task', 'one'], ['n', '1']]);
      assert.equal(f1.body.length, 0);
      assert.equal(hex(readFileSync(r.u.spool({ task: 'one', n: '1' }))), one.hex);
      // uwsgi.spool({b'task': b'two', b'body': b'BODY-BYTES'}): the body leaves the vars and follows them raw.
      const f2 = decodeSpoolFile(unhex(two.hex));
      assert.ok(!('error' in f2));
      assert.deepEqual(f2.vars.map(([k, v]) => [dec(k), dec(v)]), [['task', 'two']]);
      assert.equal(dec(f2.body), 'BODY-BYTES');
      const p2 = r.u.spool({ task: 'two', body: 'BODY-BYTES' });
      assert.equal(hex(readFileSync(p2)), two.hex);
      assert.equal(hex(concat(encodeSpoolFile(f2.vars, f2.body))), two.hex);
      // The task dict the function gets, as uWSGI's Python plugin builds it.
      const d = taskDict(f2, 'x');
      assert.deepEqual(Object.keys(d), ['spooler_task_name', 'task', 'body']);
      assert.equal(dec(d.body), 'BODY-BYTES');
      // Spec vectors (shared/spec/spooler.md §1): `at` and `priority` stay in the vars, in call order.
      const atHex = '11200000010061010031010062050068656c6c6f0200617'+'40a0031373935323431393039';
      assert.equal(hex(concat(encodeSpoolFile([[enc.encode('a'), enc.encode('1')], [enc.encode('b'), enc.encode('hello')], [enc.encode('at'), enc.encode('1795241909')]]))), atHex);
      const prHex = '111d0000010061010031010062050068656c6c6f08007072696f72697479010035';
      const pr = r.u.spool({ a: '1', b: 'hello', priority: '5' });
      assert.equal(hex(readFileSync(pr)), prHex);
      assert.equal(pr.split('/').slice(-2, -1)[0], '5');
    } finally { r.done(); }
  });

  test("file names follow uWSGI's pattern, with mode 0600 and a counter that grows", () => {
    const r = rig();
    try {
      const a = r.u.spool({ x: '1' });
      const b = r.u.send_to_spooler({ x: '2' });
      const re = new RegExp(`^${r.dir}/uwsgi_spoolfile_on_${r.u.hostname.replace(/[.]/g, '\\.')}_(\\d+)_(\\d+)_(\\d+)_(\\d+)_(\\d+)$`);
      const ma = re.exec(a), mb = re.exec(b);
      assert.ok(ma && mb, `${a}\n${b}`);
      assert.equal(Number(ma[1]), r.u.masterpid());
      assert.equal(Number(mb[2]), Number(ma[2]) + 1);
      assert.ok(Math.abs(Number(ma[4]) - Date.now() / 1000) < 5);
      assert.ok(Number(ma[5]) < 1_000_000);
      assert.equal(statSync(a).mode & 0o777, 0o600);
      // Nothing else is left in the directory: the temporary name is gone.
      assert.deepEqual(readdirSync(r.dir).sort(), [a, b].map((p) => p.split('/').pop()).sort());
    } finally { r.done(); }
  });

  test('decoding: short and malformed files are told apart', () => {
    assert.equal((decodeSpoolFile(new Uint8Array([17, 5])) as { error: string }).error, 'short');
    assert.equal((decodeSpoolFile(unhex('110a000001006101')) as { error: string }).error, 'short');
    assert.equal((decodeSpoolFile(unhex('110400000500610100')) as { error: string }).error, 'malformed');
    const ok = decodeSpoolFile(unhex('1100000041424344'));
    assert.ok(!('error' in ok) && ok.vars.length === 0 && dec(ok.body) === 'ABCD');
  });

  test('natural order puts 2 before 10 and digits before letters', () => {
    assert.deepEqual(['uwsgi_x', '10', '2', '1', '09'].sort(naturalCompare), ['1', '2', '09', '10', 'uwsgi_x']);
  });
});

describe('spooler: spool() arguments', () => {
  test('reserved keys in the dict or in the options (options win); Map keys may be bytes', () => {
    const r = rig();
    try {
      const p = r.u.spool(new Map<string | Uint8Array, string | Uint8Array>([[enc.encode('k'), enc.encode('v')], ['priority', '3']]), { priority: 7, body: enc.encode('B') });
      assert.match(p, /\/7\/uwsgi_spoolfile_on_/);
      const t = r.u.spooler_get_task(p)!;
      assert.equal(dec(t.k), 'v');
      assert.equal(dec(t.priority), '7');
      assert.equal(dec(t.body), 'B');
      assert.equal(dec(t.spooler_task_name), p);
      const q = r.u.spool({ a: 'b', at: 1795241909.75, spooler: r.dir });
      assert.equal(statSync(q).mtimeMs, 1795241909000);
      assert.equal(dec(r.u.spooler_get_task(q)!.at), '1795241909.75');
      assert.equal(dec(r.u.spooler_get_task(q)!.spooler), r.dir);
    } finally { r.done(); }
  });

  test('bad arguments are typed errors and write nothing', () => {
    const r = rig();
    try {
      throwsUwsgi(() => r.u.spool({ n: 1 as unknown as string }), 'ERR_ARG_TYPE', /value of 'n' must be a string or Uint8Array, got number/);
      throwsUwsgi(() => r.u.spool('x' as never), 'ERR_ARG_TYPE', /the task must be an object or a Map/);
      throwsUwsgi(() => r.u.spool({ a: 'b' }, { nope: 1 } as never), 'ERR_ARG_TYPE', /unknown option 'nope'/);
      throwsUwsgi(() => r.u.spool({ a: 'b' }, { priority: '../../etc' }), 'ERR_VALUE_RANGE', /priority must be a non-negative integer/);
      throwsUwsgi(() => r.u.spool({ a: 'b', priority: '-1' }), 'ERR_VALUE_RANGE');
      throwsUwsgi(() => r.u.spool({ a: 'b' }, { at: 'soon' }), 'ERR_VALUE_RANGE', /at must be a unix time/);
      throwsUwsgi(() => r.u.spool({ a: 'b' }, { at: -5 }), 'ERR_VALUE_RANGE');
      throwsUwsgi(() => r.u.spool({ a: 'b' }, { spooler: '/nowhere' }), 'ERR_NOT_FOUND', /unable to find spooler '\/nowhere'/);
      // A task that arrives naming another instance (a spool packet's own `spooler` var) is not forwarded.
      throwsUwsgi(() => enqueueSpoolPacket(r.u.ctx, [[enc.encode('spooler'), enc.encode('127.0.0.1:3031')]]), 'ERR_UNSUPPORTED', /not forwarded/);
      throwsUwsgi(() => r.u.spool({ big: 'x'.repeat(65530) }), 'ERR_BOUNDS', /limited to 64k/);
      throwsUwsgi(() => r.u.spool({ '': 'x' }), 'ERR_ARG_TYPE', /keys must not be empty/);
      throwsUwsgi(() => (r.u.spool as (...a: unknown[]) => string)(), 'ERR_ARG_COUNT');
      throwsUwsgi(() => (r.u.spool as (...a: unknown[]) => string)({}, {}, {}), 'ERR_ARG_COUNT');
      assert.deepEqual(readdirSync(r.dir), []);
      // A big value fits in the body.
      const p = r.u.spool({ a: 'b' }, { body: 'x'.repeat(200_000) });
      assert.equal(r.u.spooler_get_task(p)!.body.length, 200_000);
    } finally { r.done(); }
  });

  test('without a spooler: ERR_NOT_CONFIGURED, spooler_pid 0, no spoolers attribute', () => {
    const e = createEngine({});
    throwsUwsgi(() => e.uwsgi.spool({ a: 'b' }), 'ERR_NOT_CONFIGURED', /no spooler configured/);
    throwsUwsgi(() => e.uwsgi.spooler_jobs(), 'ERR_NOT_CONFIGURED');
    throwsUwsgi(() => e.uwsgi.spooler_get_task('x'), 'ERR_NOT_CONFIGURED');
    assert.equal(e.uwsgi.spooler_pid(), 0);
    assert.deepEqual(e.uwsgi.spooler_pids(), []);
    assert.equal(e.uwsgi.spoolers, undefined);
    assert.equal(e.uwsgi.i_am_the_spooler(), null);
    assert.equal(e.uwsgi.set_spooler_frequency(5), true);
  });

  test('enqueueSpoolPacket writes a raw vars block as it came (the protocol server\'s entry)', () => {
    const r = rig();
    try {
      const block = encodeVars([['task', 'remote'], ['priority', '2']]);
      const p = enqueueSpoolPacket(r.u.ctx, block, enc.encode('BODY'));
      assert.match(p, /\/2\/uwsgi_spoolfile_on_/);
      assert.equal(hex(readFileSync(p)), `11${(block.length & 255).toString(16).padStart(2, '0')}0000${hex(block)}${hex(enc.encode('BODY'))}`);
      throwsUwsgi(() => enqueueSpoolPacket(r.u.ctx, new Uint8Array([5, 0, 1])), 'ERR_PROTOCOL');
      const hook = spoolPacketHook(r.u.ctx);
      assert.equal(hook([[enc.encode('a'), enc.encode('b')]]), true);
      assert.equal(hook([[enc.encode('spooler'), enc.encode('/elsewhere')]]), false);
      assert.equal(hook([[enc.encode('priority'), enc.encode('../x')]]), false);
      assert.equal(spoolPacketHook(createEngine({}).uwsgi.ctx)([[enc.encode('a'), enc.encode('b')]]), false);
    } finally { r.done(); }
  });
});

describe('spooler: running tasks', () => {
  test('return codes: OK removes, RETRY and other ints keep, IGNORE keeps and logs; throws and non-ints retry', async () => {
    const r = rig();
    try {
      const results: Record<string, unknown> = {
        ok: SPOOL_OK, retry: SPOOL_RETRY, ignore: SPOOL_IGNORE, five: 5, none: undefined, str: 'done', async: 'async',
      };
      assert.deepEqual([SPOOL_OK, SPOOL_RETRY, SPOOL_IGNORE], [-2, -1, 0]);
      assert.deepEqual([r.u.SPOOL_OK, r.u.SPOOL_RETRY, r.u.SPOOL_IGNORE], [-2, -1, 0]);
      const paths: Record<string, string> = {};
      for (const k of [...Object.keys(results), 'throw']) paths[k] = r.u.spool({ kind: k });
      const calls: string[] = [];
      const { loop } = r.loop(1, (t) => {
        const k = dec(t.kind)!;
        calls.push(k);
        if (k === 'throw') throw new Error('boom');
        if (k === 'async') return Promise.resolve(SPOOL_OK);
        return results[k];
      });
      const out = await loop.pass();
      assert.equal(calls.length, 8);
      const outcome = (k: string) => out.get(paths[k].split('/').pop()!);
      assert.deepEqual(Object.fromEntries(Object.keys(paths).map((k) => [k, outcome(k)])), {
        ok: 'done', retry: 'retry', ignore: 'ignored', five: 'retry', none: 'retry', str: 'retry', async: 'done', throw: 'retry',
      });
      assert.equal(existsSync(paths.ok), false);
      assert.equal(existsSync(paths.async), false);
      for (const k of ['retry', 'ignore', 'five', 'none', 'str', 'throw']) assert.equal(existsSync(paths[k]), true, k);
      assert.ok(r.logs.some((l) => /unable to find the spooler function/.test(l)));
      assert.ok(r.logs.some((l) => /the spooler function failed on .*boom/s.test(l)));
      // Kept tasks run again at the next scan.
      calls.length = 0;
      await loop.pass();
      assert.equal(calls.length, 6);
      // Nothing in the directory but the kept tasks: no claimed or temporary names.
      assert.equal(readdirSync(r.dir).length, 6);
      assert.equal(taskFiles(r.dir).length, 6);
    } finally { r.done(); }
  });

  test('no spooler function registered: tasks are kept (SPOOL_IGNORE)', async () => {
    const r = rig();
    try {
      const p = r.u.spool({ a: 'b' });
      const { loop } = r.loop(1);
      const out = await loop.pass();
      assert.equal(out.get(p.split('/').pop()!), 'ignored');
      assert.ok(existsSync(p));
      throwsUwsgi(() => { r.u.spooler = 5 as never; }, 'ERR_ARG_TYPE', /must be a function/);
    } finally { r.done(); }
  });

  test('the task dict: bytes values, spooler_task_name, body; reserved keys stay', async () => {
    const r = rig();
    try {
      const p = r.u.spool({ name: 'ä', priority: '1', at: '5' }, { body: new Uint8Array([0, 255]) });
      let got: Record<string, Uint8Array> | undefined;
      let info: unknown;
      const { loop } = r.loop(1, (t, i) => { got = t; info = i; return SPOOL_OK; });
      await loop.pass();
      assert.ok(got);
      assert.deepEqual(Object.keys(got), ['spooler_task_name', 'name', 'priority', 'at', 'body']);
      assert.ok(got.name instanceof Uint8Array);
      assert.equal(dec(got.name), 'ä');
      assert.equal(dec(got.spooler_task_name), p.split('/').pop());
      assert.deepEqual([...got.body], [0, 255]);
      assert.deepEqual(info, { name: p.split('/').pop(), dir: join(r.dir, '1'), spooler: r.dir });
    } finally { r.done(); }
  });

  test('`at`: a task waits until the (injected) clock reaches it', async () => {
    const r = rig();
    let now = Date.now();
    r.e.setClock(() => now);
    try {
      const at = Math.floor(now / 1000) + 3600;
      const p = r.u.spool({ a: 'b' }, { at });
      const ran: string[] = [];
      const { loop } = r.loop(1, (t) => { ran.push(dec(t.a)!); return SPOOL_OK; });
      assert.equal((await loop.pass()).get(p.split('/').pop()!), 'future');
      assert.deepEqual(ran, []);
      assert.deepEqual(r.u.spooler_jobs(), [p]);
      now = (at - 1) * 1000;
      await loop.pass();
      assert.deepEqual(ran, []);
      now = at * 1000;
      await loop.pass();
      assert.deepEqual(ran, ['b']);
      assert.deepEqual(r.u.spooler_jobs(), []);
    } finally { r.done(); }
  });

  test('priorities: with spooler-ordered, 1 then 2 then 10 then unprioritised (uWSGI order); they run without it too', async () => {
    for (const ordered of [true, false]) {
      const r = rig(ordered ? { 'spooler-ordered': true } : {});
      try {
        r.u.spool({ n: 'none' });
        r.u.spool({ n: 'p10' }, { priority: 10 });
        r.u.spool({ n: 'p2' }, { priority: 2 });
        r.u.spool({ n: 'p1' }, { priority: '1' });
        r.u.spool({ n: 'p2b' }, { priority: 2 });
        const ran: string[] = [];
        const { loop } = r.loop(1, (t) => { ran.push(dec(t.n)!); return SPOOL_OK; });
        await loop.pass();
        if (ordered) {
          assert.deepEqual(ran.slice(0, 1), ['p1']);
          assert.deepEqual(ran.slice(1, 3).sort(), ['p2', 'p2b']);
          assert.deepEqual(ran.slice(3), ['p10', 'none']);
        } else {
          assert.deepEqual(ran.sort(), ['none', 'p1', 'p10', 'p2', 'p2b']);
        }
        // spooler_jobs lists the top directory only, as uWSGI.
        assert.deepEqual(r.u.spooler_jobs(), []);
      } finally { r.done(); }
    }
  });

  test('a task whose function finished but whose removal did not happen runs again (at least once); a removed task never does', async () => {
    const r = rig({ 'spooler-quiet': false });
    try {
      const p = r.u.spool({ a: 'b' });
      const name = p.split('/').pop()!;
      let runs = 0;
      const crash = new Error('thread dies here');
      const a = r.e.attach('spooler', 1);
      a.spooler = () => { runs++; return SPOOL_OK; };
      const loopA = new SpoolerLoop(a, { log: () => {}, afterTask: () => { throw crash; } });
      await assert.rejects(loopA.pass(), (e) => e === crash);
      assert.equal(runs, 1);
      // The task is claimed by A: not listed, not readable, not run by B while A lives.
      const claimed = readdirSync(r.dir);
      assert.equal(claimed.length, 1);
      assert.equal(parseMarked(claimed[0])?.kind, 'claim');
      assert.equal(parseMarked(claimed[0])?.task, name);
      assert.deepEqual(r.u.spooler_jobs(), []);
      assert.equal(r.u.spooler_get_task(p), null);
      const { s: b, loop: loopB } = r.loop(2, () => { runs++; return SPOOL_OK; });
      await loopB.pass();
      assert.equal(runs, 1);
      // A dies: its claim goes back, and B runs the task again.
      r.e.threadExited(a.ctx.tid);
      const out = await loopB.pass();
      assert.equal(out.get(name), 'done');
      assert.equal(runs, 2);
      assert.ok(r.logs.some((l) => l.includes(`task ${name} was claimed by a spooler that is gone`)));
      assert.deepEqual(readdirSync(r.dir), []);
      await loopB.pass();
      assert.equal(runs, 2);
      assert.ok(b.i_am_the_spooler());
    } finally { r.done(); }
  });

  test('temporary files of a writer that is gone are removed; those of a live writer are left', async () => {
    const r = rig();
    try {
      // A writer thread (a worker) leaves a partial file, then dies.
      const w = r.e.attach('worker', 1);
      const me = spoolerOf(w.ctx).owner();
      const partial = `.uwsgi-tmp.${me.pid}.${me.pstart}.${me.boot}.${me.owner}.uwsgi_spoolfile_on_h_1_1_1_1_1`;
      writeFileSync(join(r.dir, partial), 'partial');
      const { loop } = r.loop(1, () => SPOOL_OK);
      await loop.pass();
      assert.equal(existsSync(join(r.dir, partial)), true, 'its writer still runs');
      r.e.threadExited(w.ctx.tid);
      await loop.pass();
      assert.equal(existsSync(join(r.dir, partial)), false);
      // Another process that no longer exists (pid 0 never names a user process).
      const gone = `.uwsgi-claim.999999999.1.${me.boot}.1.uwsgi_spoolfile_on_h_2_2_2_2_2`;
      writeFileSync(join(r.dir, gone), readFileSync(r.u.spool({ z: '1' })));
      const ran: string[] = [];
      const l2 = r.loop(2, (t) => { ran.push(dec(t.z)!); return SPOOL_OK; });
      await l2.loop.pass();
      assert.deepEqual(ran, ['1', '1']);
      assert.deepEqual(readdirSync(r.dir), []);
    } finally { r.done(); }
  });

  test('an undecodable task is set aside, never deleted; a file without its header yet is left for later', async () => {
    const r = rig();
    try {
      writeFileSync(join(r.dir, 'uwsgi_spoolfile_on_bad_1'), unhex('1106000005006101'));
      writeFileSync(join(r.dir, 'uwsgi_spoolfile_on_new_1'), unhex('11'));
      const { loop } = r.loop(1, () => SPOOL_OK);
      const out = await loop.pass();
      assert.equal(out.get('uwsgi_spoolfile_on_bad_1'), 'corrupt');
      assert.equal(out.get('uwsgi_spoolfile_on_new_1'), 'busy');
      assert.deepEqual(readdirSync(r.dir).sort(), ['.uwsgi-corrupt.uwsgi_spoolfile_on_bad_1', 'uwsgi_spoolfile_on_new_1']);
      assert.ok(r.logs.some((l) => /cannot be decoded/.test(l)));
    } finally { r.done(); }
  });
});

describe('spooler: module functions', () => {
  test('spooler_get_task reads tasks by absolute or relative path and never leaves the spool directories', () => {
    const r = rig();
    try {
      const p = r.u.spool({ a: 'b' }, { priority: 4 });
      const name = p.split('/').pop()!;
      assert.equal(dec(r.u.spooler_get_task(p)!.a), 'b');
      assert.equal(dec(r.u.spooler_get_task(`4/${name}`)!.spooler_task_name), `4/${name}`);
      assert.equal(dec(r.u.spooler_get_task(enc.encode(p))!.a), 'b');
      assert.equal(r.u.spooler_get_task(join(r.dir, 'uwsgi_spoolfile_on_missing')), null);
      assert.equal(r.u.spooler_get_task('uwsgi_spoolfile_on_missing'), null);
      // Escapes.
      throwsUwsgi(() => r.u.spooler_get_task('/etc/passwd'), 'ERR_BOUNDS', /outside the spool directories/);
      throwsUwsgi(() => r.u.spooler_get_task('../../../../../../etc/passwd'), 'ERR_BOUNDS', /outside the spool directories/);
      throwsUwsgi(() => r.u.spooler_get_task(`${r.dir}/../secret`), 'ERR_BOUNDS');
      throwsUwsgi(() => r.u.spooler_get_task(`${r.dir}/4/../../secret`), 'ERR_BOUNDS');
      throwsUwsgi(() => r.u.spooler_get_task(`${r.dir}/notdigits/x`), 'ERR_BOUNDS');
      throwsUwsgi(() => r.u.spooler_get_task(`${r.dir}/1/2/x`), 'ERR_BOUNDS');
      throwsUwsgi(() => r.u.spooler_get_task(r.dir), 'ERR_BOUNDS');
      throwsUwsgi(() => r.u.spooler_get_task(`${p}\0x`), 'ERR_BOUNDS');
      throwsUwsgi(() => r.u.spooler_get_task(''), 'ERR_BOUNDS');
      throwsUwsgi(() => r.u.spooler_get_task(5 as never), 'ERR_ARG_TYPE');
      // A "priority" directory that is a link to elsewhere.
      const outside = join(r.dir, '..', 'outside');
      mkdirSync(outside);
      writeFileSync(join(outside, name), readFileSync(p));
      symlinkSync(outside, join(r.dir, '77'));
      throwsUwsgi(() => r.u.spooler_get_task(`${r.dir}/77/${name}`), 'ERR_BOUNDS', /symbolic link/);
      // A task name that is a link is not a task.
      symlinkSync(join(outside, name), join(r.dir, 'uwsgi_spoolfile_on_link'));
      assert.equal(r.u.spooler_get_task('uwsgi_spoolfile_on_link'), null);
      // A file inside that is not a task is not read.
      writeFileSync(join(r.dir, 'notes.txt'), '11000000');
      assert.equal(r.u.spooler_get_task('notes.txt'), null);
    } finally { r.done(); }
  });

  test('spooler_jobs, spooler_pid(s), set_spooler_frequency, i_am_the_spooler, spoolers', async () => {
    const tmp = scratchDir();
    try {
      const e = createEngine({ spooler: [join(tmp.path, 'a'), join(tmp.path, 'b')], 'spooler-external': join(tmp.path, 'c'), 'spooler-processes': 2, 'spooler-quiet': true });
      const u = e.uwsgi;
      assert.deepEqual(u.spoolers, ['a', 'b', 'c'].map((x) => join(tmp.path, x)));
      assert.equal(statSync(join(tmp.path, 'a')).mode & 0o777, 0o750);
      const p = u.spool({ a: '1' });
      u.spool({ a: '2' }, { spooler: join(tmp.path, 'b') });
      u.spool({ a: '3' }, { spooler: join(tmp.path, 'c') });
      u.spool({ a: '4' }, { priority: 1 });
      assert.deepEqual(u.spooler_jobs(), [p]);
      assert.equal(taskFiles(join(tmp.path, 'c')).length, 1);
      assert.equal(u.spooler_pid(), 0);
      assert.deepEqual(u.spooler_pids(), [0, 0, 0, 0, 0]);
      const s = e.attach('spooler', 1);
      const loop = new SpoolerLoop(s, { log: () => {} });
      const running = loop.run();
      assert.equal(u.spooler_pid(), u.masterpid());
      assert.deepEqual(u.spooler_pids(), [u.masterpid(), 0, 0, 0, 0]);
      assert.equal(s.i_am_the_spooler(), true);
      assert.equal(u.i_am_the_spooler(), null);
      assert.equal(spoolerOf(s.ctx).frequency(), 30);
      assert.equal(u.set_spooler_frequency(7), true);
      assert.equal(spoolerOf(s.ctx).frequency(), 7);
      assert.equal(u.set_spooler_frequency(0), true);
      assert.equal(spoolerOf(s.ctx).frequency(), 30);
      throwsUwsgi(() => u.set_spooler_frequency(-1), 'ERR_VALUE_RANGE');
      throwsUwsgi(() => u.set_spooler_frequency('x' as never), 'ERR_ARG_TYPE');
      throwsUwsgi(() => (u.set_spooler_frequency as (...a: unknown[]) => true)(), 'ERR_ARG_COUNT');
      loop.stop();
      assert.equal(await running, 'stopped');
      assert.equal(u.spooler_pid(), 0);
      assert.throws(() => new SpoolerLoop(u), (err: { code?: string }) => err.code === 'ERR_UNSUPPORTED');
    } finally { tmp.cleanup(); }
  });

  test('options: values checked, meaningless ones refused with the reason', () => {
    const tmp = scratchDir();
    try {
      const d = join(tmp.path, 's');
      throwsUwsgi(() => createEngine({ spooler: d, 'spooler-chdir': '/tmp' }), 'ERR_UNSUPPORTED', /spooler-chdir.*working directory/);
      throwsUwsgi(() => createEngine({ spooler: d, 'spooler-signal-as-task': true }), 'ERR_UNSUPPORTED', /signals/);
      throwsUwsgi(() => createEngine({ spooler: d, 'touch-spoolers-reload': '/x' }), 'ERR_UNSUPPORTED');
      throwsUwsgi(() => createEngine({ spooler: d, 'spooler-processes': 0 }), 'ERR_OPTION', /spooler-processes/);
      throwsUwsgi(() => createEngine({ spooler: d, 'spooler-frequency': 'x' }), 'ERR_OPTION');
      throwsUwsgi(() => createEngine({ spooler: '' }), 'ERR_OPTION', /needs a directory/);
      writeFileSync(join(tmp.path, 'file'), '');
      throwsUwsgi(() => createEngine({ spooler: join(tmp.path, 'file') }), 'ERR_OPTION', /cannot use/);
      const e = createEngine({ spooler: d, 'spooler-freq': 3, 'spooler-max-tasks': 10, 'spooler-harakiri': 60, 'spooler-import': 'x.js', 'spooler-ordered': true });
      const c = e.shared.config.spooler;
      assert.deepEqual([c.frequency, c.maxTasks, c.harakiri, c.imports, c.ordered, c.processes], [3, 10, 60, ['x.js'], true, 1]);
    } finally { tmp.cleanup(); }
  });
});

describe('spooler over the wire', () => {
  test("send_to_spooler({...}, { spooler: 'host:port' }) writes the task into the serving engine's spooler (its default spool hook)", async () => {
    const r = rig();
    const port = await freePort();
    const server = await serve(r.u, { options: { socket: `127.0.0.1:${port}` } });
    try {
      const client = createEngine({}).uwsgi;
      const sent = client.send_to_spooler({ job: 'remote', n: '7' }, { spooler: `127.0.0.1:${port}`, body: 'payload' });
      assert.ok(sent instanceof Promise, 'a remote spooler gives a promise');
      assert.equal(await sent, true);
      const jobs = r.u.spooler_jobs();
      assert.equal(jobs.length, 1);
      const task = r.u.spooler_get_task(jobs[0]!)!;
      assert.equal(dec(task.job), 'remote');
      assert.equal(dec(task.n), '7');
      assert.equal(task.spooler, undefined, 'the address itself is not part of the task');
      // A server without a spooler refuses: ERR_REJECTED, as uWSGI's ff 00 00 00.
      const bare = createEngine({}).uwsgi;
      const port2 = await freePort();
      const server2 = await serve(bare, { options: { socket: `127.0.0.1:${port2}` } });
      try {
        await rejectsUwsgi(client.spool({ job: 'x' }, { spooler: `127.0.0.1:${port2}` }), 'ERR_REJECTED');
      } finally {
        await server2.close();
      }
    } finally {
      await server.close();
      r.done();
    }
  });
});
