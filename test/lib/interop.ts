/**
 * Helpers for the interop suites, which talk to real programs from Debian's
 * packages (uWSGI, nginx, net-snmp, Erlang, chromium). They run on the
 * machine's Node only. A suite whose program is absent is skipped with a clear
 * reason; `.ci/run` installs every program, so in CI they always run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The absolute path of `name` on PATH (plus /usr/sbin for nginx), or null. */
export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, name);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/**
 * A skip reason naming every missing program, or false when all are present:
 * a test starts with `const missing = needs('nginx'); if (missing) skip(missing);`
 * (vitest's `ctx.skip`, which prints the reason beside the skipped test).
 */
export function needs(...programs: string[]): string | false {
  const missing = programs.filter((p) => !which(p));
  return missing.length ? `needs ${missing.join(', ')} (not installed; .ci/run installs it)` : false;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A free UDP port on 127.0.0.1 (bound then released). A free TCP port says
 * nothing of UDP: a test that binds UDP takes its port from here, or it may
 * meet a datagram socket already there (EADDRINUSE).
 */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolve once something accepts TCP connections on 127.0.0.1:port, or reject after `ms`. */
export async function waitForPort(port: number, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A private temporary directory, removed by `cleanup()`. */
export function tempDir(prefix = 'uwsgi-wasm-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A started child process with its output collected, stopped by `stop()`. */
export interface Child {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Start `cmd args` with output captured; `stop()` sends SIGTERM, then SIGKILL after 5 s. */
export function start(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Child {
  const proc = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d) => { out += d; });
  proc.stderr?.on('data', (d) => { out += d; });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
