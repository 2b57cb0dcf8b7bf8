// Requests per second through nginx (`uwsgi_pass` / `proxy_pass`, nginx's
// defaults: one worker, a new backend connection per request) under wrk, for a
// hello-world app. The protocol row adds its `uwsgi-wasm` listener to this case
// with `{ ...NGINX_HELLO, extends: true, subjects: { 'uwsgi-wasm': { threads: 2, setup: nginxWrk(...) } } }`.
import http from 'node:http';
import { freePort } from '../lib/proc.mjs';
import { uwsgiHello } from '../lib/uwsgi.mjs';
import { nginxWrk } from '../lib/wrk.mjs';
import { NGINX_HELLO } from './names.mjs';

/** node:http hello world in the row's process (its runtime's node:http). */
async function nodeHttpHello() {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '11' });
    res.end('Hello World');
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  return { address: `127.0.0.1:${port}`, protocol: 'http', stop: () => new Promise((r) => server.close(() => r())) };
}

export default [
  {
    ...NGINX_HELLO,
    threads: 1,
    unit: 'req',
    subjects: {
      'Node http': nginxWrk(nodeHttpHello),
      'uWSGI (python)': { native: true, threads: 2, setup: nginxWrk(() => uwsgiHello({ processes: 2 })) },
    },
  },
];
