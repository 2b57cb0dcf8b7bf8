import { createEngine } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));
const join = (...a: Uint8Array[]) => enc(a.map((x) => text(x)).join('|'));

describe('rpc (local)', () => {
  test('a function of the calling thread runs at once: bytes in, bytes out', () => {
    const u = createEngine({}).uwsgi;
    assert.equal(u.register_rpc('join', join), true);
    const r = u.call('join', 'a', enc('b'), 'é');
    assert.ok(r instanceof Uint8Array, 'not a promise');
    assert.equal(text(r), 'a|b|é');
    assert.equal(text(u.rpc(null, enc('join'), 'x') as Uint8Array), 'x');
    assert.equal(text(u.rpc('', 'join', 'y') as Uint8Array), 'y');
    assert.equal(u.rpc(undefined, 'join'), null, 'an empty result is None in uWSGI');
    assert.deepEqual(u.rpc_list().map(text), ['join']);
  });

  test('uWSGI\'s result rules: only non-empty bytes count; unknown names, throws, non-callables give null', async () => {
    const u = createEngine({}).uwsgi;
    u.register_rpc('str', () => 'text');
    u.register_rpc('empty', () => new Uint8Array(0));
    u.register_rpc('throws', () => { throw new Error('boom'); });
    u.register_rpc('nc', 42 as unknown as () => unknown);
    u.register_rpc('async', async (a: Uint8Array) => a);
    for (const n of ['str', 'empty', 'throws', 'nc', 'nosuch']) assert.equal(u.call(n), null, n);
    assert.equal(text(await u.call('async', 'later')), 'later');
    assert.deepEqual(u.rpc_list().map(text), ['str', 'empty', 'throws', 'nc', 'async']);
  });

  test('re-registering takes the name over in place', () => {
    const u = createEngine({}).uwsgi;
    u.register_rpc('f', () => enc('one'));
    u.register_rpc('f', () => enc('two'));
    assert.equal(text(u.call('f') as Uint8Array), 'two');
    assert.equal(u.rpc_list().length, 1);
  });

  test('a function of another thread view comes back as a promise, served from its event loop', async () => {
    const engine = createEngine({ workers: 2 });
    const w1 = engine.attach('worker', 1);
    w1.register_rpc('who', (a: Uint8Array) => enc(`worker ${w1.worker_id()} got ${text(a)}`));
    engine.uwsgi.register_rpc('master', () => enc('from master'));
    const p = engine.uwsgi.call('who', 'hi');
    assert.ok(p instanceof Promise);
    assert.equal(text(await p), 'worker 1 got hi');
    assert.equal(text(await w1.call('master')), 'from master');
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => engine.uwsgi.call('who', String(i))));
    assert.deepEqual(many.map(text), Array.from({ length: 20 }, (_, i) => `worker 1 got ${i}`));
  });

  test('a dead thread\'s functions disappear: calls give null, the name can be taken again', async () => {
    const engine = createEngine({ workers: 1 });
    const w = engine.attach('worker', 1);
    w.register_rpc('gone', () => enc('x'));
    engine.threadExited(w.ctx.tid);
    assert.equal(await engine.uwsgi.call('gone'), null);
    assert.deepEqual(engine.uwsgi.rpc_list(), []);
    engine.uwsgi.register_rpc('gone', () => enc('back'));
    assert.equal(text(engine.uwsgi.call('gone') as Uint8Array), 'back');
  });

  test('limits: names 1..255 bytes, 255 arguments, rpc-max functions', () => {
    const u = createEngine({ 'rpc-max': 2 }).uwsgi;
    assert.equal(u.register_rpc('a'.repeat(255), (...a: Uint8Array[]) => enc(String(a.length))), true);
    throwsUwsgi(() => u.register_rpc('b'.repeat(256), () => null), 'ERR_BOUNDS', /register_rpc: name must be 1\.\.255 bytes, got 256/);
    throwsUwsgi(() => u.register_rpc('', () => null), 'ERR_BOUNDS', /got 0/);
    assert.equal(text(u.call('a'.repeat(255), ...new Array(255).fill('x')) as Uint8Array), '255');
    throwsUwsgi(() => u.call('a'.repeat(255), ...new Array(256).fill('x')), 'ERR_VALUE_RANGE', /call: at most 255 arguments, got 256/);
    u.register_rpc('two', () => null, 3);
    throwsUwsgi(() => u.register_rpc('three', () => null), 'ERR_FULL', /register_rpc: the RPC table is full \(2 functions; raise 'rpc-max'\)/);
  });

  test('bad arguments name the function and the argument', async () => {
    const u = createEngine({}).uwsgi;
    const any = u as unknown as Record<string, (...a: unknown[]) => unknown>;
    throwsUwsgi(() => any.register_rpc('x'), 'ERR_ARG_COUNT', /register_rpc\(\) takes at least 2 arguments \(1 given\)/);
    throwsUwsgi(() => any.register_rpc(5, () => null), 'ERR_ARG_TYPE', /register_rpc: name must be a string or Uint8Array, got number/);
    throwsUwsgi(() => any.register_rpc('x', () => null, 'y'), 'ERR_ARG_TYPE', /register_rpc: argc must be an integer/);
    throwsUwsgi(() => any.call(), 'ERR_ARG_COUNT', /call\(\) takes at least 1 argument \(0 given\)/);
    throwsUwsgi(() => any.call('f', 1), 'ERR_ARG_TYPE', /call: argument 1 must be a string or Uint8Array, got number/);
    throwsUwsgi(() => any.rpc(null), 'ERR_ARG_COUNT', /rpc\(\) takes at least 2 arguments \(1 given\)/);
    throwsUwsgi(() => any.rpc(7, 'f'), 'ERR_ARG_TYPE', /rpc: node must be a string, Uint8Array or null, got number/);
    await rejectsUwsgi(Promise.resolve().then(() => u.rpc('127.0.0.1:0', 'f')), 'ERR_VALUE_RANGE', /rpc: node '127.0.0.1:0' needs a port 1..65535/);
    throwsUwsgi(() => any.rpc_list(1), 'ERR_ARG_COUNT');
    await rejectsUwsgi(Promise.resolve().then(() => u.call('f', new Uint8Array(70000))), 'ERR_BOUNDS', /call: the arguments take 70004 bytes/);
  });
});
