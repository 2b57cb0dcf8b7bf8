/**
 * Test hosts: Linux network namespaces, each with one veth pair into a bridge
 * (multicast snooping off, so every host gets every group datagram), the
 * bridge holding the gateway address in the test's own namespace so the
 * test reaches every host directly. Addresses are 198.18.N.1.. (RFC 2544's
 * benchmarking range, which no real network uses), N picked per run. Hosts
 * whose test process died are swept the next time (their names carry its pid).
 * Everything is created with `ip` (iproute2) and removed by `teardown()`,
 * also when the process exits without calling it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** One test host. */
export interface Host {
  /** Its namespace. */
  readonly ns: string;
  /** Its address on the bridge. */
  readonly ip: string;
}

/** A network of test hosts. */
export interface TestNet {
  readonly hosts: Host[];
  /** The test process's address on the bridge. */
  readonly gateway: string;
  /** Start `cmd args` inside `host`'s namespace, output collected. */
  run(host: Host, cmd: string, args: string[], opts?: { env?: Record<string, string>; cwd?: string }): NetChild;
  /** Kill what `run` started, delete the namespaces and the bridge. */
  teardown(): Promise<void>;
}

/** A process started in a host. */
export interface NetChild {
  readonly proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once it has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<number | string>;
  /** SIGKILL: a crash, no goodbye. */
  kill(): Promise<number | string>;
}

const PREFIX = 'uwt';
let created = 0;

function ip(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, err: `${r.error?.message ?? ''}${r.stderr ?? ''}`.trim() };
}

function must(args: string[]): void {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.err}`);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as { code?: string }).code === 'EPERM'; }
}

/** Remove the namespaces and bridges earlier runs left behind (their process is gone). */
function sweep(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)h\\d+)`).exec(line.trim());
    if (m && !alive(Number(m[2]))) ip(['netns', 'del', m[1]!]);
  }
  const links = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout ?? '';
  for (const m of links.matchAll(new RegExp(`\\d+: (${PREFIX}(\\d+)b\\d*):`, 'g'))) if (!alive(Number(m[2]))) ip(['link', 'del', m[1]!]);
}

/**
 * Make `n` hosts, or say why they cannot be made (not root, no `ip`, no
 * namespaces in this container): the caller skips with that reason.
 */
export function createTestNet(n: number): TestNet | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'test hosts are Linux network namespaces; this is not Linux' };
  const probe = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { skip: "test hosts need iproute2's `ip` (not installed; .ci/run installs iproute2)" };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { skip: 'test hosts need root (ip netns add); CI runs as root' };
  sweep();
  const id = `${process.pid}`;
  const k = created++;
  const bridge = `${PREFIX}${id}b${k}`;
  const subnet = `198.18.${(process.pid + k * 37) % 250 + 1}`;
  const hosts: Host[] = [];
  const children = new Set<NetChild>();
  const nsNames: string[] = [];
  let down = false;
  const teardownSync = () => {
    if (down) return;
    down = true;
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    for (const ns of nsNames) ip(['netns', 'del', ns]);
    ip(['link', 'del', bridge]);
  };
  process.once('exit', teardownSync);
  try {
    if (bridge.length > 15) throw new Error(`interface name ${bridge} is too long`);
    const b = ip(['link', 'add', bridge, 'type', 'bridge']);
    if (!b.ok) { process.off('exit', teardownSync); return { skip: `cannot create a bridge for the test hosts (${b.err})` }; }
    must(['link', 'set', bridge, 'type', 'bridge', 'mcast_snooping', '0']);
    must(['addr', 'add', `${subnet}.254/24`, 'dev', bridge]);
    must(['link', 'set', bridge, 'up']);
    for (let i = 1; i <= n; i++) {
      const ns = `${PREFIX}${id}h${k * 10 + i}`;
      const veth = `${PREFIX}${id}v${k * 10 + i}`;
      const r = ip(['netns', 'add', ns]);
      if (!r.ok) { teardownSync(); process.off('exit', teardownSync); return { skip: `cannot create network namespaces (${r.err})` }; }
      nsNames.push(ns);
      must(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      must(['link', 'set', veth, 'master', bridge, 'up']);
      must(['-n', ns, 'link', 'set', 'lo', 'up']);
      must(['-n', ns, 'addr', 'add', `${subnet}.${i}/24`, 'dev', 'eth0']);
      must(['-n', ns, 'link', 'set', 'eth0', 'up']);
      // Group datagrams leave by eth0 (a join needs a route to pick its interface).
      must(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
      must(['-n', ns, 'route', 'add', 'default', 'via', `${subnet}.254`]);
      hosts.push({ ns, ip: `${subnet}.${i}` });
    }
  } catch (e) {
    teardownSync();
    process.off('exit', teardownSync);
    throw e;
  }
  return {
    hosts,
    gateway: `${subnet}.254`,
    run(host, cmd, args, opts = {}) {
      const proc = spawn('ip', ['netns', 'exec', host.ns, cmd, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout?.on('data', (d) => { out += d; });
      proc.stderr?.on('data', (d) => { out += d; });
      const exited = new Promise<number | string>((r) => proc.once('exit', (code, sig) => r(code ?? sig ?? -1)));
      const child: NetChild = {
        proc,
        output: () => out,
        exited,
        async stop(graceMs = 5000) {
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.kill('SIGTERM');
            const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
            await exited;
            clearTimeout(t);
          }
          return exited;
        },
        async kill() {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
          return exited;
        },
      };
      children.add(child);
      void exited.then(() => children.delete(child));
      return child;
    },
    async teardown() {
      await Promise.all([...children].map((c) => c.stop(2000)));
      teardownSync();
      process.off('exit', teardownSync);
    },
  };
}

/** GET `url` and return the body, or null when nothing answers within `ms`. */
export async function tryGet(url: string, ms = 2000): Promise<string | null> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), ms);
  try {
    const r = await fetch(url, { signal: ctl.signal });
    return await r.text();
  } catch {
    return null;
  } finally {
    clearTimeout(t);
  }
}

/** Poll `fn` until it resolves truthy (returned), at most `ms`; throws with `what` and the last value otherwise. */
export async function eventually<T>(what: string, fn: () => Promise<T>, ms = 15_000, every = 200): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, every));
  }
}
