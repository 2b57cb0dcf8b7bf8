import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { freePort } from '../lib/interop.ts';

/** The stats server's JSON document, over HTTP (`--stats-http`, as the start script has it). */
type DemoStats = { workers: Array<{ id: number; signals: number; respawn_count: number; requests: number }> };
async function fetchStats(port: number): Promise<DemoStats> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return await res.json() as DemoStats;
}

/** The stats once both workers have served some of the demo's own requests (or after `ms`, whatever they show). */
async function statsOnceServing(port: number, ms = 8000): Promise<DemoStats> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await fetchStats(port);
    if (s.workers.every((w) => w.requests > 0) || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
/** The running runtime's executable and the arguments it needs to run a script. */
const self = deno ? { cmd: deno.execPath(), pre: ['run', '-A', '--quiet'] } : { cmd: process.execPath, pre: [] as string[] };

function runCli(args: string[], onLine?: (line: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(self.cmd, [...self.pre, 'dist/cli.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`cli did not finish:\n${out}\n${err}`)); }, 30_000);
    let partial = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      // Whole lines only: a chunk may end mid-line.
      const lines = (partial + String(d)).split('\n');
      partial = lines.pop() ?? '';
      if (onLine) for (const l of lines) if (l) onLine(l, (s) => child.kill(s));
    });
    child.stderr.on('data', (d) => { err += String(d); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err }); });
  });
}

/**
 * The options of package.json's `start` script (what `npm start` runs), with the
 * spool directory moved to `spool` and the stats server, SNMP agent and HTTP listener moved to
 * free ports (so a test never collides with an `npm start` or another runtime's run).
 */
function demoArgs(spool: string, stats: number, snmp: number, http: number): string[] {
  const script = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start;
  const m = /\bdist\/cli\.js (.*)$/.exec(script);
  assert.ok(m, `the start script runs dist/cli.js: ${script}`);
  const args = m[1].trim().split(/\s+/);
  const i = args.indexOf('--spooler');
  assert.ok(i >= 0 && args.at(-1) === 'examples/demo.js', `the start script runs the demo with a spooler: ${script}`);
  args[i + 1] = spool;
  const j = args.indexOf('--stats');
  assert.ok(j >= 0, `the start script serves stats: ${script}`);
  args[j + 1] = `127.0.0.1:${stats}`;
  const k = args.findIndex((a) => a.startsWith('--snmp='));
  assert.ok(k >= 0, `the start script runs the SNMP agent: ${script}`);
  args[k] = `--snmp=127.0.0.1:${snmp}`;
  const h = args.indexOf('--http-socket');
  assert.ok(h >= 0, `the start script serves HTTP (the demo's request load): ${script}`);
  args[h + 1] = `127.0.0.1:${http}`;
  return args;
}

/** A private directory (tests on several runtimes or a concurrent `npm start` never share a spool). */
function scratchDir(): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'uwsgi-demo-'));
}

describe('cli', () => {
  test('runs the demo (npm start): shared memory, cache, mule, spooler, a timer and a cron signal, a harakiri respawn', async () => {
    const spool = scratchDir();
    try {
      const [statsPort, snmpPort, httpPort] = [await freePort(), await freePort(), await freePort()];
      // With --stats the demo stays up making traffic for the dashboard: once both workers
      // say so, read the stats document (the workers' counters come from the status table), then stop it.
      let traffic = 0;
      let stats: DemoStats | undefined;
      const r = await runCli(demoArgs(spool, statsPort, snmpPort, httpPort), (line, kill) => {
        if (/\] making cache and SNMP traffic; dashboard on http:\/\/127\.0\.0\.1:\d+\/dashboard/.test(line) && ++traffic === 2) {
          void statsOnceServing(statsPort).then((s) => { stats = s; }, () => {}).finally(() => kill('SIGTERM'));
        }
      });
      if (deno) assert.ok(r.code === 0 || r.signal === 'SIGTERM', `${r.code} ${r.signal}\n${r.out}${r.err}`);
      else assert.equal(r.code, 0, r.out + r.err);
      assert.equal(traffic, 2, r.out + r.err);
      assert.ok(stats, 'the stats server answered while the demo ran');
      const handled = stats.workers.reduce((n, w) => n + w.signals, 0);
      assert.ok(handled >= 3, `the workers' signals column counts the timer and cron handlers: ${JSON.stringify(stats.workers)}`);
      assert.ok(stats.workers.find((w) => w.id === 2)!.respawn_count >= 2, 'stats count worker 2 spawned twice (uWSGI counts the first spawn)');
      assert.ok(stats.workers.every((w) => w.requests > 0), `both workers serve the demo's own request load (--http-socket): ${JSON.stringify(stats.workers)}`);
      // One line per event, each prefixed with who printed it: threads on stdout, the master on stderr.
      for (const l of r.out.split('\n').filter(Boolean)) assert.match(l, /^\[(worker [12]|mule 1|spooler)\] /, `stdout line without its thread: ${l}`);
      for (const l of r.err.split('\n').filter(Boolean)) assert.match(l, /^uwsgi-wasm: /, `stderr line without the master's prefix: ${l}`);
      for (const id of [1, 2]) {
        assert.match(r.out, new RegExp(`\\[worker ${id}\\] everyone finished: counter = 200000 \\(expected 200000\\), 2000 locked updates`));
        assert.match(r.out, new RegExp(`\\[mule 1\\] got: worker ${id} saw counter 200000`));
        assert.match(r.out, new RegExp(`\\[worker ${id}\\] cache: 'hello from worker ${3 - id}', visits = 2`));
        assert.match(r.out, new RegExp(`\\[spooler\\] task from worker ${id}: the counter read 200000`));
      }
      // The master's scheduler raises the timer and cron signals; a worker's handler runs them.
      assert.match(r.out, /\[worker 1\] added a timer \(signal 17, every 1 s\) and a cron entry \(signal 18, /);
      assert.match(r.out, /\[worker [12]\] timer: signal 17 \(add_timer, every 1 s\), tick 1\n/);
      assert.match(r.out, /\[worker [12]\] timer: signal 17 \(add_timer, every 1 s\), tick 2\n/);
      assert.match(r.out, /\[worker [12]\] cron: signal 18 \(add_cron -1 -1 -1 -1 -1\) at \d\d:\d\d, run 1\n/);
      // Harakiri: worker 2 blocks holding lock 2, the master kills and respawns it, the lock is taken over.
      assert.match(r.out, /\[worker 2\] holding lock 2 and blocking the thread past its 1 s set_user_harakiri deadline/);
      assert.match(r.err, /uwsgi-wasm: HARAKIRI ON WORKER 2 \(slot \d+, user harakiri deadline passed\)/);
      assert.match(r.err, /uwsgi-wasm: worker 2 died holding 1 lock\(s\); they were freed/);
      assert.match(r.err, /uwsgi-wasm: worker 2 died \(code 1\); respawning/);
      assert.match(r.out, /\[worker 2\] respawned by the master \(respawn_count 1\); taking lock 2/);
      assert.match(r.out, /\[worker 2\] lock 2 was held by the killed worker: taken over\n\[worker 2\] lock 2 is usable again/);
      assert.match(r.out, /\[worker 1\] done: \d+ timer and 1 cron signal\(s\) handled; respawns: worker 1 0, worker 2 1\n/);
      // The events come in the demo's order (each thread's own lines keep their order).
      const at = (re: RegExp) => r.out.search(re);
      assert.ok(at(/\[worker 1\] cache:/) < at(/\[worker 1\] added a timer/), 'cache before timers');
      assert.ok(at(/\[worker 1\] added a timer/) < at(/\[worker 1\] done:/), 'timers before the end');
      assert.ok(at(/\[worker 2\] holding lock 2/) < at(/\[worker 2\] respawned/), 'blocked before respawned');
    } finally {
      rmSync(spool, { recursive: true, force: true });
    }
  }, 30_000);

  test('SIGTERM while a demo worker is stuck past its harakiri deadline still stops everything cleanly', async () => {
    const spool = scratchDir();
    try {
      let stuck = false;
      const r = await runCli(demoArgs(spool, await freePort(), await freePort(), await freePort()), (line, kill) => {
        if (!stuck && /\[worker 2\] holding lock 2 and blocking/.test(line)) { stuck = true; kill('SIGTERM'); }
      });
      assert.ok(stuck, r.out + r.err);
      assert.match(r.err, /SIGTERM received, stopping workers\n(.*\n)*uwsgi-wasm: all workers stopped/);
      if (deno) assert.ok(r.code === 0 || r.signal === 'SIGTERM', `${r.code} ${r.signal}`);
      else assert.equal(r.code, 0, r.err);
    } finally {
      rmSync(spool, { recursive: true, force: true });
    }
  }, 30_000);

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
