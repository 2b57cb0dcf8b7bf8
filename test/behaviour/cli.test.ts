import { spawn } from 'node:child_process';
import { assert, describe, test } from '../lib/harness.ts';

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
/** The running runtime's executable and the arguments it needs to run a script. */
const self = deno ? { cmd: deno.execPath(), pre: ['run', '-A', '--quiet'] } : { cmd: process.execPath, pre: [] as string[] };

function runCli(args: string[], onLine?: (line: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(self.cmd, [...self.pre, 'dist/cli.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`cli did not finish:\n${out}\n${err}`)); }, 30_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      if (onLine) for (const l of String(d).split('\n')) if (l) onLine(l, (s) => child.kill(s));
    });
    child.stderr.on('data', (d) => { err += String(d); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err }); });
  });
}

describe('cli', () => {
  test('runs the demo: two workers share a sharedarea, a lock and a cache, and message a mule', async () => {
    const r = await runCli(['--workers', '2', '--sharedarea', '1', '--locks', '4', '--cache2', 'name=default,items=100', '--mule', 'examples/demo-mule.js', 'examples/demo.js']);
    assert.equal(r.code, 0, r.err);
    for (const id of [1, 2]) {
      assert.match(r.out, new RegExp(`\\[worker ${id}\\] everyone finished: counter = 200000 \\(expected 200000\\), 2000 locked updates`));
      assert.match(r.out, new RegExp(`\\[mule 1\\] got: worker ${id} saw counter 200000`));
      assert.match(r.out, new RegExp(`\\[worker ${id}\\] cache: 'hello from worker ${3 - id}', visits = 2`));
    }
  });

  test('an unknown option is a clear error with exit code 2', async () => {
    const r = await runCli(['--no-such-thing', '1', 'examples/demo.js']);
    assert.equal(r.code, 2);
    assert.match(r.err, /uwsgi-wasm: unknown option 'no-such-thing'/);
  });

  test('SIGTERM stops the master and its workers cleanly', async () => {
    let up = 0;
    const r = await runCli(['--workers', '2', 'build/tests/fixtures/forever.js'], (line, kill) => {
      if (/serving/.test(line) && ++up === 2) kill('SIGTERM');
    });
    assert.equal(up, 2, r.out + r.err);
    assert.match(r.err, /SIGTERM received, stopping workers\n.*all workers stopped/s);
    // Deno's node:child_process reports any child it signalled as killed by that signal, even one that exited 0.
    if (deno) assert.ok(r.code === 0 || r.signal === 'SIGTERM', `${r.code} ${r.signal}`);
    else assert.equal(r.code, 0, r.err);
  });
});
