// What one request costs the serving process, counted rather than timed (wrk's
// rates move by ±30% on a shared machine; these counts by a few percent):
//
//   node bench/profile/per-request.mjs cpu|callgrind direct|nginx <server> <shape> [runtime...]
//
//   cpu        the server's CPU time (user + system, /proc/PID/stat) per request
//              over a 4 s wrk run after a 2 s warm-up (any runtime);
//   callgrind  instructions per request of the serving thread (valgrind's
//              callgrind, counters zeroed after a warm-up; Node only: V8 runs
//              under valgrind, JSC does not); the profile is kept in
//              build/profile/ for callgrind_annotate;
//   direct     wrk -c32 keep-alive straight at the server;
//   nginx      wrk at a private nginx (bench/lib/wrk.mjs's startNginx) that
//              opens a new connection per request: uwsgi_pass for the `socket`
//              server, proxy_pass otherwise;
//   <server>, <shape>: see serve-hello.mjs;  [runtime...]: the command that runs
//              it, `node` by default (e.g. node_modules/.bin/bun, or
//              node_modules/.bin/deno run -A).
// Needs wrk, and nginx / valgrind for those modes. Run `npm run build` first.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, need, runToEnd, startProcess, tempDir, waitForPort } from '../lib/proc.mjs';
import { startNginx, wrkRun } from '../lib/wrk.mjs';

const [mode, front, server, shape, ...runtime] = process.argv.slice(2);
if (!['cpu', 'callgrind'].includes(mode) || !['direct', 'nginx'].includes(front) || !server || !shape) {
  console.error('usage: per-request.mjs cpu|callgrind direct|nginx socket|http-socket|node-http|net-floor fetch|listener [runtime...]');
  process.exit(2);
}
const uwsgiProtocol = server === 'socket' || server === 'net-floor';
if (uwsgiProtocol && front !== 'nginx') {
  console.error('per-request: the uwsgi protocol (socket, net-floor) needs the nginx front');
  process.exit(2);
}
const rt = runtime.length ? runtime : ['node'];
const serveHello = new URL('./serve-hello.mjs', import.meta.url).pathname;
const back = await freePort();
const dir = tempDir('uwsgi-wasm-profile-');
const cgOut = join(dir.path, 'cg.out');
const keepDir = new URL('../../build/profile/', import.meta.url).pathname;
let kept;
const [file, ...args] = mode === 'callgrind'
  ? [need('valgrind', 'apt-get install valgrind'), '--tool=callgrind', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${cgOut}`, ...rt]
  : rt;
const proc = startProcess(file, [...args, serveHello, server, shape, String(back)]);
let nginx;
try {
  await waitForPort(back, { timeoutMs: mode === 'callgrind' ? 300_000 : 20_000, alive: proc.alive, what: `serve-hello (${rt.join(' ')})` });
  if (front === 'nginx') nginx = await startNginx({ upstream: `127.0.0.1:${back}`, protocol: uwsgiProtocol ? 'uwsgi' : 'http' });
  const url = nginx ? nginx.url : `http://127.0.0.1:${back}/`;
  let total;
  let requests;
  if (mode === 'callgrind') {
    const control = need('callgrind_control', 'apt-get install valgrind');
    await wrkRun(url, { seconds: 8, connections: 4, timeoutSeconds: 10 });
    await runToEnd(control, ['-z', String(proc.child.pid)]);
    ({ requests } = await wrkRun(url, { seconds: 20, connections: 4, timeoutSeconds: 10 }));
    await runToEnd(control, ['-d', String(proc.child.pid)]);
    // The first explicit dump ("part 1") of thread 1, the main thread, which serves.
    total = Number(/^totals: (\d+)/m.exec(readFileSync(`${cgOut}.1-01`, 'utf8'))?.[1]);
    // Kept for callgrind_annotate (where the instructions went, function by function).
    mkdirSync(keepDir, { recursive: true });
    kept = join(keepDir, `callgrind.${front}-${server}-${shape}.out`);
    copyFileSync(`${cgOut}.1-01`, kept);
  } else {
    // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ')' that ends the command name.
    const cpuTicks = () => {
      const stat = readFileSync(`/proc/${proc.child.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]);
    };
    await wrkRun(url, { seconds: 2 });
    const t0 = cpuTicks();
    ({ requests } = await wrkRun(url, { seconds: 4 }));
    // utime and stime are in USER_HZ ticks, 100 a second on Linux: 10,000 µs each.
    total = (cpuTicks() - t0) * 10_000;
  }
  const unit = mode === 'callgrind' ? 'instructions' : 'µs CPU';
  console.log(`${front} ${server} ${shape} (${rt.join(' ')}): ${Math.round(total / requests)} ${unit} a request over ${requests} requests`);
  if (kept) console.log(`profile: callgrind_annotate ${kept}`);
} finally {
  await nginx?.stop();
  await proc.stop();
  dir.remove();
}
