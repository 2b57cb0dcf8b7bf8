// Real uWSGI 2.0.21 (`uwsgi --plugin python3`) as a peer: the same operations
// run from Python inside uWSGI (bench/fixtures/uwsgi_ops.py), and the hello-world
// server nginx talks to in the http suite (bench/fixtures/hello_wsgi.py).
import { fileURLToPath } from 'node:url';
import { freePort, need, startProcess, waitForPort } from './proc.mjs';

const fixture = (name) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/**
 * Start real uWSGI with the python3 plugin. `args` are added to a master with
 * logging off that dies on SIGTERM. Throws Skip when uwsgi is absent.
 * @param {string[]} args e.g. ['--socket', '127.0.0.1:3031', '--wsgi-file', 'app.py']
 * @param {number} port the port it listens on (waited for)
 */
export async function startUwsgi(args, port) {
  const bin = need('uwsgi', 'apt-get install uwsgi-core uwsgi-plugin-python3');
  // SIGKILL: a graceful stop (SIGTERM or SIGINT) takes the master a second to bury its workers;
  // killed, the master's pipe closes and every worker exits at once ("my master disconnected").
  const p = startProcess(bin, ['--plugin', 'python3', '--master', '--die-on-term', '--disable-logging', '--need-app', ...args], { stopSignal: 'SIGKILL' });
  await waitForPort(port, { alive: p.alive, what: 'uwsgi', timeoutMs: 20_000 });
  return { port, stop: p.stop, alive: p.alive };
}

/**
 * A subject's setup: one uWSGI process runs `op` (a name in uwsgi_ops.py's OPS)
 * in a timed Python loop, with the bench's warm-up and sampling profile.
 * Options match the JS rows: a 20k-item cache of 64-byte blocks and 32-byte
 * keys, a 64-slot queue, one sharedarea page, 4 locks.
 * @param {string} op
 */
export function uwsgiOps(op) {
  return async () => {
    const port = await freePort();
    const server = await startUwsgi([
      '--http-socket', `127.0.0.1:${port}`, '--processes', '1',
      '--cache2', 'name=default,items=20000,blocksize=64,keysize=32',
      '--queue', '64', '--queue-blocksize', '64', '--sharedarea', '1', '--locks', '4',
      '--wsgi-file', fixture('uwsgi_ops.py'),
    ], port);
    return {
      async samples(profile) {
        const q = new URLSearchParams({
          op, warmup_ms: String(profile.warmupTime), time_ms: String(profile.time),
          min_samples: String(profile.minSamples), batch_ms: String(profile.batchMs),
        });
        const res = await fetch(`http://127.0.0.1:${port}/run?${q}`);
        const text = await res.text();
        if (res.status !== 200) throw new Error(`uwsgi_ops.py ${op}: HTTP ${res.status}: ${text.slice(0, 300)}`);
        return JSON.parse(text).ns;
      },
      close: server.stop,
    };
  };
}

/**
 * Backend for `nginxWrk`: real uWSGI serving hello_wsgi.py on the uwsgi
 * protocol with `processes` worker processes.
 */
export async function uwsgiHello({ processes = 2 } = {}) {
  const port = await freePort();
  const server = await startUwsgi(['--socket', `127.0.0.1:${port}`, '--processes', String(processes), '--listen', '1024', '--wsgi-file', fixture('hello_wsgi.py')], port);
  return { address: `127.0.0.1:${port}`, protocol: 'uwsgi', stop: server.stop };
}
