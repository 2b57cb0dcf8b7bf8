/**
 * Spool files between a real uWSGI 2.0.21 (python3 plugin) and this project,
 * both ways: our spooler runs the tasks a real uWSGI wrote, and a real uWSGI
 * spooler runs the tasks we wrote.
 */
import { createEngine } from 'uwsgi-wasm';
import { SPOOL_OK, SpoolerLoop } from 'uwsgi-wasm/spooler';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { freePort, needs, start, tempDir, which } from '../lib/interop.ts';

const hex = (u: Uint8Array) => Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
const utf8 = (s: string) => hex(new TextEncoder().encode(s));
const missing = needs('uwsgi') || (existsSync('/usr/lib/uwsgi/plugins/python3_plugin.so') ? false : 'needs the uwsgi python3 plugin (uwsgi-plugin-python3)');

/** Resolve once `fn` returns true, polling the file system (a real program writes there); reject after `ms`. */
async function until(fn: () => boolean, ms: number, what: string, output: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; uWSGI said:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const WRITER = `
import json, os, uwsgi
paths = [
    uwsgi.spool({b'task': b'one', b'n': b'1'}),
    uwsgi.spool({b'task': b'two', b'body': b'BODY\\x00\\xff'}),
    uwsgi.spool({b'task': b'three', b'priority': b'3'}),
    uwsgi.spool({b'task': b'four', b'at': b'1000.5'}),
]
with open(os.environ['SPOOL_OUT'] + '.tmp', 'w') as f:
    json.dump([p.decode() for p in paths], f)
os.rename(os.environ['SPOOL_OUT'] + '.tmp', os.environ['SPOOL_OUT'])
def application(env, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok']
`;

const CONSUMER = `
import json, os, uwsgi
def record(env):
    rec = {}
    for k, v in env.items():
        key = k.decode('latin-1') if isinstance(k, bytes) else k
        rec[key] = v.hex() if isinstance(v, bytes) else repr(v)
    with open(os.environ['SPOOL_OUT'], 'a') as f:
        f.write(json.dumps(rec, sort_keys=True) + '\\n')
    return uwsgi.SPOOL_OK
uwsgi.spooler = record
def application(env, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok']
`;

describe('interop: spooler with real uWSGI', () => {
  test('our spooler runs the tasks a real uWSGI wrote (body, priority, at), under the names uWSGI returned', async ({ skip }) => {
    if (missing) skip(missing);
    const tmp = tempDir();
    const dir = join(tmp.path, 'spool');
    const out = join(tmp.path, 'written.json');
    writeFileSync(join(tmp.path, 'writer.py'), WRITER);
    const port = await freePort();
    mkdirSync(dir);
    const uwsgi = start(which('uwsgi')!, ['--plugin', 'python3', '--master', '--spooler-external', dir, '--http-socket', `127.0.0.1:${port}`, '--wsgi-file', join(tmp.path, 'writer.py'), '--die-on-term'], { cwd: tmp.path, env: { SPOOL_OUT: out } });
    try {
      await until(() => existsSync(out), 20_000, 'uWSGI to spool', uwsgi.output);
    } finally {
      await uwsgi.stop();
    }
    try {
      const written = JSON.parse(readFileSync(out, 'utf8')) as string[];
      assert.equal(written.length, 4);
      assert.equal(statSync(written[3]).mtimeMs, 1_000_000);
      const e = createEngine({ spooler: dir, 'spooler-quiet': true });
      const u = e.uwsgi;
      // spooler_get_task reads uWSGI's file as uWSGI would.
      const t2 = u.spooler_get_task(written[1])!;
      assert.equal(hex(t2.task), utf8('two'));
      assert.equal(hex(t2.body), hex(new Uint8Array([66, 79, 68, 89, 0, 255])));
      const s = e.attach('spooler', 1);
      const got: Record<string, Record<string, string>> = {};
      s.spooler = (task, info) => {
        got[info.name] = Object.fromEntries(Object.entries(task).map(([k, v]) => [k, hex(v)]));
        return SPOOL_OK;
      };
      await new SpoolerLoop(s, { log: () => {} }).pass();
      const name = (p: string) => p.split('/').pop()!;
      assert.deepEqual(Object.keys(got).sort(), written.map(name).sort());
      assert.deepEqual(got[name(written[0])], { spooler_task_name: utf8(name(written[0])), task: utf8('one'), n: utf8('1') });
      assert.deepEqual(got[name(written[1])], { spooler_task_name: utf8(name(written[1])), task: utf8('two'), body: '424f445900ff' });
      assert.deepEqual(got[name(written[2])], { spooler_task_name: utf8(name(written[2])), task: utf8('three'), priority: utf8('3') });
      assert.deepEqual(got[name(written[3])], { spooler_task_name: utf8(name(written[3])), task: utf8('four'), at: utf8('1000.5') });
      assert.deepEqual(readdirSync(dir), ['3']);
      assert.deepEqual(readdirSync(join(dir, '3')), []);
    } finally {
      tmp.cleanup();
    }
  }, 60_000);

  test("a real uWSGI spooler runs the tasks we wrote and leaves the one whose 'at' is still to come", async ({ skip }) => {
    if (missing) skip(missing);
    const tmp = tempDir();
    const dir = join(tmp.path, 'spool');
    const out = join(tmp.path, 'ran.jsonl');
    writeFileSync(join(tmp.path, 'consumer.py'), CONSUMER);
    const e = createEngine({ spooler: dir });
    const u = e.uwsgi;
    const paths = [
      u.spool({ task: 'one', n: '1' }),
      u.spool({ task: 'two' }, { body: new Uint8Array([0, 255, 1]) }),
      u.spool({ task: 'three' }, { priority: 2 }),
      u.spool(new Map([[new Uint8Array([0xc3, 0xa9]), new Uint8Array([1, 2])]]), { at: 1000 }),
      u.spool({ task: 'later' }, { at: Math.floor(Date.now() / 1000) + 3600 }),
    ];
    const port = await freePort();
    const uwsgi = start(which('uwsgi')!, [
      '--plugin', 'python3', '--master', '--spooler', dir, '--spooler-ordered', '--spooler-frequency', '1',
      '--http-socket', `127.0.0.1:${port}`, '--wsgi-file', join(tmp.path, 'consumer.py'), '--die-on-term',
    ], { cwd: tmp.path, env: { SPOOL_OUT: out } });
    try {
      const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean) : []);
      await until(() => lines().length >= 4, 20_000, 'the uWSGI spooler to run 4 tasks', uwsgi.output);
      const ran = lines().map((l) => JSON.parse(l) as Record<string, string>);
      const byName = Object.fromEntries(ran.map((r) => [Buffer.from(r.spooler_task_name, 'hex').toString(), r]));
      const name = (p: string) => p.split('/').pop()!;
      assert.deepEqual(byName[name(paths[0])], { spooler_task_name: utf8(name(paths[0])), task: utf8('one'), n: utf8('1') });
      assert.deepEqual(byName[name(paths[1])], { spooler_task_name: utf8(name(paths[1])), task: utf8('two'), body: '00ff01' });
      assert.deepEqual(byName[name(paths[2])], { spooler_task_name: utf8(name(paths[2])), task: utf8('three'), priority: utf8('2') });
      // uWSGI hands the key over as bytes (the consumer shows them as latin-1): é's two UTF-8 bytes, as we wrote them.
      assert.deepEqual(byName[name(paths[3])], { spooler_task_name: utf8(name(paths[3])), 'Ã©': '0102', at: utf8('1000') });
      // The priority task ran first (--spooler-ordered: digits sort before names).
      assert.equal(Buffer.from(ran[0].spooler_task_name, 'hex').toString(), name(paths[2]));
      assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('uwsgi_spoolfile_on_')), [name(paths[4])]);
      assert.match(uwsgi.output(), /done with task/);
    } finally {
      await uwsgi.stop();
      tmp.cleanup();
    }
  }, 60_000);
});
