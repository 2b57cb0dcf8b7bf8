// nginx in front of a backend, loaded with wrk: requests per second through a
// real reverse proxy. Used by the `http` suite (bench/cases/http.mjs); a new
// backend (e.g. this library's uwsgi listener) is one more subject:
//
//   import { nginxWrk } from './wrk.mjs';
//   'uwsgi-wasm': nginxWrk(async () => {
//     const server = await startMyListener();            // anything listening on 127.0.0.1
//     return { address: `127.0.0.1:${server.port}`, protocol: 'uwsgi', stop: () => server.close() };
//   }),
//
// nginx runs with a private config, pid and logs in a temp dir, on a free port,
// `uwsgi_pass` (or `proxy_pass`) pointing at the backend's address, with
// nginx's default upstream behaviour (a new backend connection per request).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, need, runToEnd, startProcess, tempDir, waitForPort } from './proc.mjs';

/** The request parameters nginx's stock `uwsgi_params` file sends (the file is not read, to stay self-contained). */
const UWSGI_PARAMS = [
  ['QUERY_STRING', '$query_string'], ['REQUEST_METHOD', '$request_method'],
  ['CONTENT_TYPE', '$content_type'], ['CONTENT_LENGTH', '$content_length'],
  ['REQUEST_URI', '$request_uri'], ['PATH_INFO', '$document_uri'],
  ['DOCUMENT_ROOT', '$document_root'], ['SERVER_PROTOCOL', '$server_protocol'],
  ['REQUEST_SCHEME', '$scheme'], ['HTTPS', '$https if_not_empty'],
  ['REMOTE_ADDR', '$remote_addr'], ['REMOTE_PORT', '$remote_port'],
  ['SERVER_PORT', '$server_port'], ['SERVER_NAME', '$server_name'],
];

/**
 * Start nginx (one worker, logging off) forwarding every request to `upstream`.
 * @param {{ upstream: string, protocol?: 'uwsgi' | 'http', workers?: number }} opts
 *   `upstream` is `host:port` or `unix:/path`; `protocol` picks `uwsgi_pass` (default) or `proxy_pass`.
 * @returns {Promise<{ port: number, url: string, dir: string, stop: () => Promise<void> }>}
 */
export async function startNginx({ upstream, protocol = 'uwsgi', workers = 1 }) {
  const bin = need('nginx', 'apt-get install nginx-light');
  const dir = tempDir('uwsgi-wasm-nginx-');
  const port = await freePort();
  const pass = protocol === 'uwsgi'
    ? [...UWSGI_PARAMS.map(([k, v]) => `uwsgi_param ${k} ${v};`), 'uwsgi_pass backend;']
    : ['proxy_pass http://backend;'];
  const conf = [
    'daemon off;',
    'master_process on;',
    `worker_processes ${workers};`,
    ...(process.getuid?.() === 0 ? ['user root;'] : []), // workers can then use the root-owned temp dir
    `pid ${dir.path}/nginx.pid;`,
    `error_log ${dir.path}/error.log warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir.path}/${t};`),
    `  upstream backend { server ${upstream}; }`,
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    location / {',
    ...pass.map((l) => `      ${l}`),
    '    }',
    '  }',
    '}',
  ].join('\n');
  writeFileSync(join(dir.path, 'nginx.conf'), `${conf}\n`);
  const p = startProcess(bin, ['-p', dir.path, '-c', join(dir.path, 'nginx.conf')], { graceMs: 3000 });
  try {
    await waitForPort(port, { alive: p.alive, what: 'nginx' });
  } catch (e) {
    await p.stop();
    dir.remove();
    throw e;
  }
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    dir: dir.path,
    async stop() { await p.stop(); dir.remove(); },
  };
}

/**
 * One wrk run against `url`; resolves with requests per second. Any non-2xx/3xx
 * response or socket error fails the run: a proxy answering 502 fast must not
 * read as a fast backend.
 * @param {string} url
 * @param {{ seconds?: number, connections?: number, threads?: number, script?: string }} [opts]
 *   `script`: a wrk Lua script (e.g. one setting `wrk.method` and `wrk.body`).
 */
export async function runWrk(url, opts = {}) {
  return (await wrkRun(url, opts)).rps;
}

/**
 * {@link runWrk}, resolving with the requests per second and the number of
 * requests the run completed (what bench/profile/per-request.mjs divides by).
 * @param {string} url
 * @param {{ seconds?: number, connections?: number, threads?: number, script?: string, timeoutSeconds?: number }} [opts]
 *   `timeoutSeconds`: wrk's per-request timeout (its default is 2 s; a server under valgrind needs more).
 * @returns {Promise<{ rps: number, requests: number }>}
 */
export async function wrkRun(url, { seconds = 3, connections = 32, threads = 1, script, timeoutSeconds } = {}) {
  const bin = need('wrk', 'apt-get install wrk');
  const args = [`-t${threads}`, `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, ...(timeoutSeconds ? ['--timeout', `${timeoutSeconds}s`] : []), ...(script ? ['-s', script] : []), url];
  const out = await runToEnd(bin, args, { timeoutMs: (seconds + 30) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const requests = /(\d+) requests in/.exec(out);
  if (!rps || !requests) throw new Error(`wrk printed no Requests/sec: ${out.trim().slice(-300)}`);
  const bad = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (bad) throw new Error(`wrk: ${bad[1]} non-2xx/3xx responses from ${url}`);
  const sock = /Socket errors:\s+connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock && sock.slice(1).some((n) => n !== '0')) throw new Error(`wrk: ${sock[0]}`);
  return { rps: Number(rps[1]), requests: Number(requests[1]) };
}

/** Fetch `url` once and check the answer, so a broken chain fails before wrk hammers it. */
async function checkOnce(url, expectBody) {
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} through nginx: HTTP ${res.status}: ${body.slice(0, 200)}`);
  if (expectBody != null && body !== expectBody) throw new Error(`GET ${url} through nginx: body ${JSON.stringify(body.slice(0, 80))}, expected ${JSON.stringify(expectBody)}`);
}

/**
 * A subject's setup for the `http` suite: starts the backend (`startBackend()`
 * resolves with `{ address, protocol, stop }`), nginx in front of it, checks one
 * request, and measures with wrk: a warm-up run, then `profile.wrkRuns` runs of
 * `profile.wrkSeconds`, each giving one sample (ns per request = 1e9 / req/s).
 * @param {() => Promise<{ address: string, protocol: 'uwsgi' | 'http', stop: () => unknown }>} startBackend
 * @param {{ expectBody?: string, connections?: number }} [opts]
 */
export function nginxWrk(startBackend, { expectBody = 'Hello World', connections = 32 } = {}) {
  return async () => {
    need('nginx', 'apt-get install nginx-light');
    need('wrk', 'apt-get install wrk');
    const backend = await startBackend();
    let nginx;
    try {
      nginx = await startNginx({ upstream: backend.address, protocol: backend.protocol });
      await checkOnce(nginx.url, expectBody);
    } catch (e) {
      await nginx?.stop();
      await backend.stop();
      throw e;
    }
    return {
      async samples(profile) {
        if (profile.wrkWarmupSeconds > 0) await runWrk(nginx.url, { seconds: profile.wrkWarmupSeconds, connections });
        const ns = [];
        for (let i = 0; i < profile.wrkRuns; i++) ns.push(1e9 / (await runWrk(nginx.url, { seconds: profile.wrkSeconds, connections })));
        return ns;
      },
      async close() { await nginx.stop(); await backend.stop(); },
    };
  };
}

/**
 * A subject's setup for a server measured straight (no proxy): starts it
 * (`start()` resolves with `{ url, stop }`), checks one answer, and measures
 * keep-alive requests with wrk as {@link nginxWrk} does (a warm-up, then
 * `profile.wrkRuns` runs of `profile.wrkSeconds`).
 * @param {() => Promise<{ url: string, stop: () => unknown }>} start
 * @param {{ expectBody?: string | null, connections?: number, script?: string, check?: (url: string) => Promise<void> }} [opts]
 */
export function directWrk(start, { expectBody = 'Hello World', connections = 32, script, check } = {}) {
  return async () => {
    need('wrk', 'apt-get install wrk');
    const server = await start();
    try {
      if (check) await check(server.url);
      else await checkOnce(server.url, expectBody);
    } catch (e) {
      await server.stop();
      throw e;
    }
    return {
      async samples(profile) {
        if (profile.wrkWarmupSeconds > 0) await runWrk(server.url, { seconds: profile.wrkWarmupSeconds, connections, script });
        const ns = [];
        for (let i = 0; i < profile.wrkRuns; i++) ns.push(1e9 / (await runWrk(server.url, { seconds: profile.wrkSeconds, connections, script })));
        return ns;
      },
      async close() { await server.stop(); },
    };
  };
}
