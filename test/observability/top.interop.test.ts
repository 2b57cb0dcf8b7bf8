/**
 * `uwsgi-wasm top` against real uWSGI 2.0.21's stats server (plain and
 * `--stats-http`) and against ours: the command line a user types, run as a
 * child process, reading the worker table of a server that served requests.
 */
import { run } from 'uwsgi-wasm';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { freePort, needs, start, tempDir, waitForPort } from '../lib/interop.ts';

/** `uwsgi-wasm top ARGS` on this Node; its output and exit code. */
function top(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/cli.js', 'top', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** The worker lines of a plain frame: [WID, REQ] pairs, and the header. */
function parseFrame(frame: string): { header: string; columns: string[]; workers: Array<[number, number, string]> } {
  const lines = frame.split('\n');
  const workers: Array<[number, number, string]> = [];
  for (const l of lines.slice(3)) {
    const f = l.trim().split(/\s+/);
    if (/^\d+$/.test(f[0]) && f.length === 16) workers.push([Number(f[0]), Number(f[3]), f[7]]);
  }
  return { header: lines[0], columns: lines[2].trim().split(/\s+/), workers };
}

const COLUMNS = ['WID', '%', 'PID', 'REQ', 'RPS', 'EXC', 'SIG', 'STATUS', 'AVG', 'RSS', 'VSZ', 'TX', 'ReSpwn', 'HC', 'RunT', 'LastSpwn'];

describe('uwsgi-wasm top (real uWSGI 2.0.21 and ours)', () => {
  test("reads real uWSGI's stats server, plain and --stats-http, and ours, in uwsgitop's layout", async ({ skip }) => {
    const missing = needs('uwsgi');
    if (missing) skip(missing);
    const dir = tempDir('uwsgi-wasm-top-');
    writeFileSync(join(dir.path, 'app.py'), [
      'def application(env, start_response):',
      '    start_response("200 OK", [("Content-Type", "text/plain")])',
      '    return [b"hello"]',
      '',
    ].join('\n'));
    const [httpA, statsA, httpB, statsB, ourHttp] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const uwsgi = (http: number, stats: string[]) => start('uwsgi', ['--plugin', 'python3', '--master', '--processes', '2', '--http-socket', `127.0.0.1:${http}`,
      ...stats, '--wsgi-file', join(dir.path, 'app.py'), '--die-on-term'], { cwd: dir.path });
    const plain = uwsgi(httpA, ['--stats', `127.0.0.1:${statsA}`]);
    const http = uwsgi(httpB, ['--stats', `127.0.0.1:${statsB}`, '--stats-http']);
    const ours = await run({
      options: { workers: 2, 'http-socket': `127.0.0.1:${ourHttp}`, cache2: 'name=default,items=10', stats: '127.0.0.1:0' },
      app: 'build/tests/fixtures/dashboard-app.js', handleSignals: false,
    });
    try {
      await Promise.all([waitForPort(httpA), waitForPort(httpB), waitForPort(statsA), waitForPort(statsB), ours.serving()]);
      for (const port of [httpA, httpB, ourHttp]) for (let i = 0; i < 12; i++) assert.ok((await fetch(`http://127.0.0.1:${port}/k${i}`)).ok);
      for (const [name, address, version] of [
        ['uWSGI --stats', `127.0.0.1:${statsA}`, /^uwsgi-2\.0\.21(-debian)? - /],
        ['uWSGI --stats-http', `http://127.0.0.1:${statsB}/`, /^uwsgi-2\.0\.21(-debian)? - /],
        ['uwsgi-wasm --stats', `127.0.0.1:${ours.services.stats!.port}`, /^uwsgi-2\.0\.21-uwsgi-wasm - /],
      ] as const) {
        const r = await top(['--count', '2', '--frequency', '0.3', '--plain', address]);
        assert.equal(r.code, 0, `${name}: ${r.err}\n${plain.output()}${http.output()}`);
        const frames = r.out.trim().split('\n\n');
        assert.equal(frames.length, 2, `${name}: ${r.out}`);
        for (const f of frames) {
          const { header, columns, workers } = parseFrame(f);
          assert.match(header, version, name);
          assert.match(header, /- req: 12 - RPS: \d+ - lq: \d+ - tx: \S+$/, name);
          assert.deepEqual(columns, COLUMNS, name);
          assert.deepEqual(workers.map(([id]) => id).sort(), [1, 2], `${name}: one line per worker\n${f}`);
          assert.equal(workers.reduce((n, [, req]) => n + req, 0), 12, `${name}: the requests add up\n${f}`);
          assert.ok(workers.every(([, req], i) => i === 0 || req <= workers[i - 1][1]), `${name}: sorted by requests\n${f}`);
          assert.ok(workers.every(([, , status]) => /^(idle|busy)$/.test(status)), `${name}: ${f}`);
        }
      }
      const nothing = await top(['--count', '1', `127.0.0.1:${await freePort()}`]);
      assert.equal(nothing.code, 2);
      assert.match(nothing.err, /uwsgi-wasm: top: 127\.0\.0\.1:\d+: cannot connect/);
    } finally {
      await ours.stop();
      await Promise.all([plain.stop(), http.stop()]);
      dir.cleanup();
    }
  }, 90_000);
});
