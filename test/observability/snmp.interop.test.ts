/**
 * The SNMP agent against net-snmp's own tools (Debian package `snmp`) and
 * against real uWSGI 2.0.21's agent: the same requests get the same bytes.
 */
import { run, type Master } from 'uwsgi-wasm';
import { execFile } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { freePort, freeUdpPort, needs, start, tempDir, waitForPort } from '../lib/interop.ts';

const BASE = '1.3.6.1.4.1.35156.17';

/**
 * net-snmp's persistent directory for the tools, private to this run: by
 * default they use /var/lib/snmp and, the first time on a machine, print
 * `Created directory: .../cert_indexes` into the output compared below.
 * The directory they would create is made here, so they print nothing extra.
 */
const snmpDir = tempDir('uwsgi-wasm-snmp-');
mkdirSync(join(snmpDir.path, 'cert_indexes'), { mode: 0o700 });
const toolEnv = { ...process.env, SNMP_PERSISTENT_DIR: snmpDir.path };
process.once('exit', () => snmpDir.cleanup());

/** Run a net-snmp tool without blocking the event loop (the agent answers from it). */
function tool(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000, env: toolEnv }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function agent(): Promise<Master> {
  const m = await run({
    options: { workers: 2, snmp: '127.0.0.1:0', 'snmp-community': 'public' },
    app: 'build/tests/fixtures/forever.js', handleSignals: false,
  });
  await m.ready();
  m.uwsgi.snmp_set_counter32(1, 100);
  m.uwsgi.snmp_set_counter64(2, 2n ** 40n);
  m.uwsgi.snmp_set_gauge(3, 77);
  m.uwsgi.snmp_set_counter32(9, 0xffffffff);
  m.services.setWorkerCounters((id) => ({ requests: id === 1 ? 28 : 35 }));
  return m;
}

const target = (m: Master) => `127.0.0.1:${m.services.snmp!.port}`;
// -On: numeric OIDs; -t/-r: give up fast where no answer is expected.
const common = ['-On', '-t', '1', '-r', '0'];

describe('snmp interop (net-snmp tools)', () => {
  const missingTools = needs('snmpget', 'snmpwalk');

  test('snmpget v1 and v2c read every type, as net-snmp prints them for uWSGI', async ({ skip }) => {
    if (missingTools) skip(missingTools);
    const m = await agent();
    try {
      for (const v of ['1', '2c']) {
        const r = await tool('snmpget', [`-v${v}`, '-c', 'public', ...common, target(m), `${BASE}.2.1`, `${BASE}.2.2`, `${BASE}.2.3`, `${BASE}.2.9`, `${BASE}.2.4`, `${BASE}.1.1`, `${BASE}.1.31`, `${BASE}.1.32`, `${BASE}.1.2`]);
        assert.equal(r.code, 0, r.out);
        assert.equal(r.out, [
          `.${BASE}.2.1 = Counter32: 100`, `.${BASE}.2.2 = Counter64: 1099511627776`, `.${BASE}.2.3 = Gauge32: 77`,
          `.${BASE}.2.9 = Counter32: 4294967295`, `.${BASE}.2.4 = NULL`, `.${BASE}.1.1 = Counter64: 63`,
          `.${BASE}.1.31 = Counter64: 28`, `.${BASE}.1.32 = Counter64: 35`, `.${BASE}.1.2 = NULL`, '',
        ].join('\n'), `v${v}`);
      }
    } finally {
      await m.stop();
    }
  }, 60_000);

  test('snmpwalk (v1, v2c) and snmpbulkwalk list the objects that hold a value, in order', async ({ skip }) => {
    if (missingTools) skip(missingTools);
    const m = await agent();
    try {
      const want = [`.${BASE}.1.1 = Counter64: 63`, `.${BASE}.1.31 = Counter64: 28`, `.${BASE}.1.32 = Counter64: 35`,
        `.${BASE}.2.1 = Counter32: 100`, `.${BASE}.2.2 = Counter64: 1099511627776`, `.${BASE}.2.3 = Gauge32: 77`, `.${BASE}.2.9 = Counter32: 4294967295`];
      for (const [cmd, v] of [['snmpwalk', '1'], ['snmpwalk', '2c'], ['snmpbulkwalk', '2c']]) {
        const r = await tool(cmd, [`-v${v}`, '-c', 'public', ...common, target(m), BASE]);
        assert.equal(r.code, 0, r.out);
        // Our MIB ends with the uWSGI tree: net-snmp prints the end it is told (v1 noSuchName, v2c endOfMibView).
        const end = v === '1' ? 'End of MIB' : `.${BASE}.2.9 = No more variables left in this MIB View (It is past the end of the MIB tree)`;
        assert.deepEqual(r.out.trim().split('\n'), [...want, end], `${cmd} -v${v}`);
      }
      m.uwsgi.snmp_incr_counter32(1, 5);
      const r = await tool('snmpwalk', ['-v2c', '-c', 'public', ...common, target(m), `${BASE}.2`]);
      assert.match(r.out, /2\.1 = Counter32: 105/, 'a walk reads live values');
    } finally {
      await m.stop();
    }
  }, 60_000);

  test('unknown OIDs: v1 noSuchName, v2c noSuchObject / noSuchInstance; bad community: no answer', async ({ skip }) => {
    const missing = missingTools || needs('snmpset');
    if (missing) skip(missing);
    const m = await agent();
    try {
      const v2 = await tool('snmpget', ['-v2c', '-c', 'public', ...common, target(m), `${BASE}.2.101`, `${BASE}.5.1`, '1.3.6.1.2.1.1.1.0']);
      assert.equal(v2.code, 0, v2.out);
      assert.match(v2.out, new RegExp(`\\.${BASE.replace(/\./g, '\\.')}\\.2\\.101 = No Such Instance`));
      assert.match(v2.out, /35156\.17\.5\.1 = No Such Object/);
      assert.match(v2.out, /\.1\.3\.6\.1\.2\.1\.1\.1\.0 = No Such Object/);
      const v1 = await tool('snmpget', ['-v1', '-c', 'public', ...common, target(m), `${BASE}.2.1`, `${BASE}.2.101`]);
      assert.notEqual(v1.code, 0);
      assert.match(v1.out, /\(noSuchName\)/);
      assert.match(v1.out, /Failed object: \.1\.3\.6\.1\.4\.1\.35156\.17\.2\.101/);
      const bad = await tool('snmpget', ['-v2c', '-c', 'private', ...common, target(m), `${BASE}.2.1`]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.out, /Timeout: No Response/);
      const set = await tool('snmpset', ['-v2c', '-c', 'public', ...common, target(m), `${BASE}.2.1`, 'u', '5']);
      assert.match(set.out, /notWritable/);
      m.uwsgi.snmp_set_community('private');
      const now = await tool('snmpget', ['-v2c', '-c', 'private', ...common, target(m), `${BASE}.2.1`]);
      assert.match(now.out, /Counter32: 100/, 'snmp_set_community takes effect at once');
    } finally {
      await m.stop();
    }
  }, 60_000);
});

function ask(port: number, data: Uint8Array, timeoutMs = 2000): Promise<Uint8Array | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(null); }, timeoutMs);
    s.on('message', (msg) => { clearTimeout(t); s.close(); resolve(new Uint8Array(msg)); });
    s.send(data, port, '127.0.0.1');
  });
}

/** A GetRequest in the form net-snmp sends and uWSGI accepts. */
function get(version: number, community: string, tail: number[], reqId: number[]): Uint8Array {
  const c = new TextEncoder().encode(community);
  const oid = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x92, 0x54, 0x11, ...tail];
  const vb = [0x30, oid.length + 4, 0x06, oid.length, ...oid, 0x05, 0x00];
  const body = [0x02, reqId.length, ...reqId, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, vb.length, ...vb];
  const msg = [0x02, 0x01, version, 0x04, c.length, ...c, 0xa0, body.length, ...body];
  return Uint8Array.from([0x30, msg.length, ...msg]);
}

describe('snmp interop (real uWSGI 2.0.21)', () => {
  test('the same GetRequests get byte-identical answers from uWSGI and from us', async ({ skip }) => {
    const missing = needs('uwsgi');
    if (missing) skip(missing);
    const dir = tempDir();
    const [httpPort, snmpPort] = [await freePort(), await freeUdpPort()];
    writeFileSync(join(dir.path, 'app.py'), [
      'import uwsgi',
      'uwsgi.snmp_set_counter32(1, 100)',
      'uwsgi.snmp_set_counter64(2, 2 ** 40)',
      'uwsgi.snmp_set_gauge(3, 77)',
      'uwsgi.snmp_set_counter32(9, 4294967295)',
      'uwsgi.snmp_incr_counter64(4, 7)',
      'def application(env, start_response):',
      '    start_response("200 OK", [])',
      '    return [b"ok"]',
      '',
    ].join('\n'));
    const real = start('uwsgi', ['--plugin', 'python3', '--master', '--processes', '1', '--http-socket', `127.0.0.1:${httpPort}`,
      `--snmp=127.0.0.1:${snmpPort}`, '--snmp-community', 'public', '--wsgi-file', join(dir.path, 'app.py'), '--die-on-term'], { cwd: dir.path });
    const m = await agent();
    m.uwsgi.snmp_incr_counter64(4, 7);
    try {
      await waitForPort(httpPort);
      const cases: Array<[number, number[], number[]]> = [
        [1, [2, 1], [0x12, 0x34, 0x56, 0x78]], [0, [2, 2], [0x01]], [1, [2, 3], [0x7f, 0xff]], [1, [2, 9], [0x05]],
        [0, [2, 4], [0x06]], [1, [2, 5], [0x07]], [1, [2, 100], [0x08]],
      ];
      let compared = 0;
      for (const [v, tail, id] of cases) {
        const req = get(v, 'public', tail, id);
        let theirs: Uint8Array | null = null;
        // uWSGI loads the app after binding; ask until it answers.
        for (let i = 0; i < 50 && !theirs; i++) theirs = await ask(snmpPort, req, 200);
        const ours = await ask(m.services.snmp!.port, req);
        assert.ok(theirs, `uWSGI answered .${tail.join('.')}\n${real.output()}`);
        assert.deepEqual([...ours!], [...theirs!], `.${tail.join('.')} v${v}`);
        compared++;
      }
      assert.equal(compared, cases.length);
    } finally {
      await m.stop();
      await real.stop();
      dir.cleanup();
    }
  }, 90_000);
});
