// Keep-alive HTTP straight at `--http-socket` (issue 13), under `wrk -t1 -c32`:
// our master with 1 and 2 workers (the hello world as a Fetch app and as a
// `(req, res)` app) against the runtime's own server alone in one
// thread (node:http on Node, Deno.serve on Deno, Bun.serve on Bun), the
// runtime's node:http, and uWebSockets.js on Node 20; a 64 KiB POST echo; an
// Express hello world hosted by us against Express on node:http. Every server
// runs in the row's process (its runtime); wrk is a separate process.
import http from 'node:http';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Skip, freePort } from '../lib/proc.mjs';
import { directWrk } from '../lib/wrk.mjs';
// The same (req, res) hello world our (req, res) rows host, so the node:http peers run identical app code.
import helloListener from '../fixtures/hello-listener.mjs';
import { FETCH_APP, LISTENER_APP, NATIVE_APP } from './names.mjs';

const LIB = new URL('../../dist/index.js', import.meta.url).href;
const fixture = (f) => new URL(`../fixtures/${f}`, import.meta.url).pathname;
const POST_SCRIPT = fixture('post64k.lua');
const RUNTIME = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node';

const HELLO = { suite: 'http', case: 'keep-alive hello world straight at the listener (wrk -c32)' };
// Our hello world runs in both app shapes (FETCH_APP, LISTENER_APP): the runtime's own server runs
// the one its API has, so each runtime's like-for-like ratio is the row of that shape; the other
// shows what the shape costs.
const ECHO = { suite: 'http', case: '64 KiB POST echo, keep-alive (wrk -c32)' };
const EXPRESS = { suite: 'http', case: 'Express hello world, keep-alive (wrk -c32)' };

/** A uwsgi-wasm master in this process: `workers` workers serving `app` on --http-socket (with `extra` options). */
function ours(app, workers, extra = {}) {
  return async () => {
    const { run } = await import(LIB);
    const port = await freePort();
    const master = await run({ options: { workers, 'http-socket': `127.0.0.1:${port}`, ...extra }, app: fixture(app), handleSignals: false });
    await master.serving();
    return { url: `http://127.0.0.1:${port}/`, stop: () => master.stop() };
  };
}

/** A node:http server in this process (the runtime's own node:http). */
function nodeHttp(listener) {
  return async () => {
    const port = await freePort();
    const server = http.createServer({ keepAliveTimeout: 4000 }, listener);
    await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
    return { url: `http://127.0.0.1:${port}/`, stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) };
  };
}

const echoListener = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  req.pipe(res);
};

/** The runtime's own server in one thread: node:http on Node, Deno.serve on Deno, Bun.serve on Bun. */
function runtimeServer(fetch, listener) {
  if (RUNTIME === 'node') return nodeHttp(listener);
  return async () => {
    const port = await freePort();
    if (RUNTIME === 'deno') {
      const ac = new AbortController();
      const server = globalThis.Deno.serve({ hostname: '127.0.0.1', port, signal: ac.signal, onListen() {} }, fetch);
      return { url: `http://127.0.0.1:${port}/`, stop: async () => { ac.abort(); await server.finished; } };
    }
    const server = globalThis.Bun.serve({ hostname: '127.0.0.1', port, fetch });
    return { url: `http://127.0.0.1:${port}/`, stop: () => server.stop(true) };
  };
}

const helloFetch = () => new Response('Hello World', { headers: { 'content-type': 'text/plain' } });
const echoFetch = (req) => new Response(req.body, { headers: { 'content-type': 'application/octet-stream' } });

/** uWebSockets.js (npm @trufflesuite/uws-js-unofficial): a native binary for Node's ABI, Node 20 here. */
async function uws() {
  if (RUNTIME !== 'node') throw new Skip(`uWebSockets.js is a Node addon (not loaded on ${RUNTIME})`);
  const require = createRequire(import.meta.url);
  let u;
  try {
    // Without a binary for this Node's ABI the package falls back to a JS server over node:http, silently: not uWS.
    const binary = join(dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json')), 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
    if (!existsSync(binary)) throw new Skip(`uWebSockets.js has no binary for Node ${process.versions.node} (ABI ${process.versions.modules}); its JS fallback is not uWS`);
    u = require('@trufflesuite/uws-js-unofficial');
  } catch (e) {
    if (e instanceof Skip) throw e;
    throw new Skip(`uWebSockets.js does not load on Node ${process.versions.node}: ${e.message.split('\n')[0]}`);
  }
  const port = await freePort();
  const app = u.App().get('/*', (res) => { res.writeHeader('content-type', 'text/plain').end('Hello World'); });
  const token = await new Promise((resolve) => app.listen('127.0.0.1', port, resolve));
  if (!token) throw new Error(`uWebSockets.js could not listen on ${port}`);
  return { url: `http://127.0.0.1:${port}/`, stop: () => { u.us_listen_socket_close(token); app.close?.(); } };
}

/** Express on the runtime's node:http, as an Express user runs it. */
async function expressAlone() {
  const { default: app } = await import(fixture('express-hello.mjs'));
  return nodeHttp(app)();
}

/** One POST of 64 KiB must come back whole before wrk hammers the server. */
async function checkEcho(url) {
  const body = new Uint8Array(65536).fill(97);
  const res = await fetch(url, { method: 'POST', body });
  const got = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200 || got.length !== body.length) throw new Error(`POST ${url}: HTTP ${res.status}, ${got.length} bytes back`);
}

export default [
  {
    ...HELLO, threads: 1, unit: 'req',
    subjects: {
      [FETCH_APP]: directWrk(ours('hello-app.mjs', 1)),
      [LISTENER_APP]: directWrk(ours('hello-listener.mjs', 1)),
      [NATIVE_APP]: { setup: RUNTIME === 'node' ? () => { throw new Skip('on Node the runtime\'s own server is node:http: the Fetch app row'); } : directWrk(ours('hello-app.mjs', 1, { 'http-native': true })) },
      'runtime server': directWrk(runtimeServer(helloFetch, helloListener)),
      'node:http': { setup: RUNTIME === 'node' ? () => { throw new Skip('on Node the runtime server is node:http'); } : directWrk(nodeHttp(helloListener)) },
      'uWebSockets.js': directWrk(uws),
    },
  },
  {
    ...HELLO, threads: 2, unit: 'req',
    subjects: {
      [FETCH_APP]: directWrk(ours('hello-app.mjs', 2)),
      [LISTENER_APP]: directWrk(ours('hello-listener.mjs', 2)),
      [NATIVE_APP]: { setup: RUNTIME === 'node' ? () => { throw new Skip('on Node the runtime\'s own server is node:http: the Fetch app row'); } : directWrk(ours('hello-app.mjs', 2, { 'http-native': true })) },
    },
  },
  {
    ...ECHO, threads: 1, unit: 'req',
    subjects: {
      'uwsgi-wasm': directWrk(ours('echo-app.mjs', 1), { script: POST_SCRIPT, check: checkEcho }),
      'uwsgi-wasm (--http-native)': { setup: RUNTIME === 'node' ? () => { throw new Skip('on Node the runtime\'s own server is node:http: the uwsgi-wasm row'); } : directWrk(ours('echo-app.mjs', 1, { 'http-native': true }), { script: POST_SCRIPT, check: checkEcho }) },
      'runtime server': directWrk(runtimeServer(echoFetch, echoListener), { script: POST_SCRIPT, check: checkEcho }),
    },
  },
  {
    ...EXPRESS, threads: 1, unit: 'req',
    subjects: {
      'uwsgi-wasm': directWrk(ours('express-hello.mjs', 1)),
      'Express on node:http': directWrk(expressAlone),
    },
  },
];
