// One hello world served in this thread, for bench/profile/per-request.mjs:
//   <runtime> bench/profile/serve-hello.mjs <server> <shape> <port>
// <server>: socket (our uwsgi listener), http-socket (our HTTP listener) or
// node-http (the runtime's node:http alone, the peer); <shape>: fetch or
// listener (the bench fixtures, so the answer is the bench rows' one).
// Listeners run through `serve()` (no master, no worker threads), so the
// process's main thread is the one that serves: that is the thread callgrind
// counts. Without a master the process subsystem's accounting is not plugged
// in; compare like with like.
import http from 'node:http';
import uwsgi from '../../dist/index.js';
import { serve } from '../../dist/server.js';
import helloFetch from '../fixtures/hello-app.mjs';
import helloListener from '../fixtures/hello-listener.mjs';

const [server, shape, portArg] = (globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2));
const port = Number(portArg);
if (!['socket', 'http-socket', 'node-http'].includes(server) || !['fetch', 'listener'].includes(shape) || !(port > 0)) {
  console.error('usage: serve-hello.mjs socket|http-socket|node-http fetch|listener <port>');
  process.exit(2);
}
if (server === 'node-http') {
  if (shape !== 'listener') { console.error('node-http serves the listener shape only'); process.exit(2); }
  await new Promise((resolve) => http.createServer(helloListener).listen(port, '127.0.0.1', resolve));
} else {
  const app = shape === 'fetch' ? { fetch: helloFetch.fetch } : { app: helloListener };
  await serve(uwsgi, { options: { [server]: `127.0.0.1:${port}` }, ...app });
}
console.error(`serving ${shape} on ${server} 127.0.0.1:${port}`);
