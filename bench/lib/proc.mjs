// Helpers for rows that talk to real programs (redis-server, memcached, uWSGI,
// nginx, wrk): find a binary, pick a free port, start a server on 127.0.0.1 and
// stop it, or skip the row with a reason when the program is absent.
//
// Plain ESM over node: built-ins, so it runs unchanged in the row process on
// Node, Deno and Bun. Servers are started in the row process's own process
// group; the orchestrator kills that group when the row ends, so a row that
// crashes or times out cannot leave a server behind.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Thrown by a subject's `setup()` when it cannot run here (a program is not
 * installed): the orchestrator reports the row as skipped with `reason`, not failed.
 */
export class Skip extends Error {
  /** @param {string} reason what is missing, e.g. "redis-server is not installed" */
  constructor(reason) {
    super(reason);
    this.name = 'Skip';
    /** Marks the error as a skip even across module copies. */
    this.benchSkip = true;
  }
}

/** The absolute path of `name` on PATH (or `name` itself if it is a path), or null. */
export function which(name) {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const p of candidates) {
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/** Like `which`, also looking in the sbin directories a non-root PATH may lack; throws Skip if absent. */
export function need(name, why = '') {
  const p = which(name) ?? ['/usr/sbin', '/usr/local/sbin', '/sbin'].map((d) => which(join(d, name))).find(Boolean);
  if (!p) throw new Skip(`${name} is not installed${why ? ` (${why})` : ''}`);
  return p;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh private directory under the system temp dir, with its remover. */
export function tempDir(prefix = 'uwsgi-wasm-bench-') {
  const path = mkdtempSync(join(os.tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolve once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port, { timeoutMs = 10_000, alive = () => true, what = `port ${port}` } = {}) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => { s.destroy(); resolve(false); });
    });
    if (ok) return;
    const dead = alive();
    if (dead !== true) throw new Error(`${what} did not start: ${dead}`);
    if (Date.now() > until) throw new Error(`${what} not accepting connections after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Start a long-running program. Its output is kept (last 8 KiB) for error
 * messages. `stop()` sends `stopSignal` (SIGTERM), then SIGKILL after `graceMs`.
 */
export function startProcess(file, args, { cwd, env, graceMs = 2000, stopSignal = 'SIGTERM' } = {}) {
  const child = spawn(file, args, { cwd, env: env ? { ...process.env, ...env } : process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => { output = (output + chunk).slice(-8192); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const done = new Promise((resolve) => {
    child.once('exit', (code, signal) => { exited = signal ?? `exit ${code}`; resolve(); });
    child.once('error', (e) => { exited = String(e.message ?? e); resolve(); });
  });
  return {
    child,
    /** true while running, else why it ended, with the end of its output. */
    alive: () => (exited === null ? true : `${file.split('/').pop()} ended (${exited}): ${output.trim().split('\n').slice(-5).join(' | ')}`),
    output: () => output,
    async stop() {
      if (exited !== null) return;
      try { child.kill(stopSignal); } catch { /* gone */ }
      const timer = new Promise((r) => setTimeout(r, graceMs, 'timeout'));
      if ((await Promise.race([done, timer])) === 'timeout') {
        try { child.kill('SIGKILL'); } catch { /* gone */ }
        await done;
      }
    },
  };
}

/** Run a program to completion; resolves with its stdout, rejects with its stderr on failure. */
export function runToEnd(file, args, { timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    // 'close', not 'exit': at 'exit' the pipes may still hold unread output (Node documents
    // this; on Deno under load it happened, and a wrk run read as having printed nothing).
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${file.split('/').pop()} ${args.join(' ')}: ${signal ?? `exit ${code}`}: ${(err || out).trim().slice(-500)}`));
    });
  });
}

/** redis-server on 127.0.0.1, no persistence. Throws Skip when it is not installed. */
export async function startRedis() {
  const bin = need('redis-server', 'apt-get install redis-server');
  const port = await freePort();
  // Nothing to persist, so SIGKILL: a graceful stop costs up to a second per row.
  const p = startProcess(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stopSignal: 'SIGKILL' });
  await waitForPort(port, { alive: p.alive, what: 'redis-server' });
  return { port, host: '127.0.0.1', stop: p.stop };
}

/** memcached on 127.0.0.1 (TCP only, one thread, 64 MB). Throws Skip when it is not installed. */
export async function startMemcached() {
  const bin = need('memcached', 'apt-get install memcached');
  const port = await freePort();
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64', '-t', '1'];
  if (process.getuid?.() === 0) args.push('-u', 'root'); // memcached refuses to run as root without it
  const p = startProcess(bin, args, { stopSignal: 'SIGKILL' }); // nothing to keep; SIGTERM takes a second
  await waitForPort(port, { alive: p.alive, what: 'memcached' });
  return { port, host: '127.0.0.1', stop: p.stop };
}
