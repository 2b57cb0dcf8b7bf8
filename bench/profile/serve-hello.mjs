// One hello world served in this thread, for bench/profile/per-request.mjs:
//   <runtime> bench/profile/serve-hello.mjs <server> <shape> <port>
// <server>: socket (our uwsgi listener), http-socket (our HTTP listener),
// node-http (the runtime's node:http alone, the peer) or net-floor (node:net
// alone answering each uwsgi request with fixed bytes: what accepting, reading
// and writing cost before any server code runs); <shape>: fetch or
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
if (!['socket', 'http-socket', 'node-http', 'net-floor'].includes(server) || !['fetch', 'listener'].includes(shape) || !(port > 0)) {
  console.error('usage: serve-hello.mjs socket|http-socket|node-http|net-floor fetch|listener <port>');
  process.exit(2);
}
if (server === 'node-http') {
  if (shape !== 'listener') { console.error('node-http serves the listener shape only'); process.exit(2); }
  await new Promise((resolve) => http.createServer(helloListener).listen(port, '127.0.0.1', resolve));
} else if (server === 'net-floor') {
  const { createServer } = await import('node:net');
  const answer = new TextEncoder().encode('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nHello World');
  // One uwsgi packet (4-byte header, then its vars), no body: answer once it is all here.
  const srv = createServer({ noDelay: true }, (s) => {
    let buf = null;
    s.on('data', (d) => {
      buf = buf ? Buffer.concat([buf, d]) : d;
      if (buf.length >= 4 && buf.length >= 4 + buf.readUInt16LE(1)) s.end(answer);
    });
    s.on('error', () => {});
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
} else {
  const app = shape === 'fetch' ? { fetch: helloFetch.fetch } : { app: helloListener };
  await serve(uwsgi, { options: { [server]: `127.0.0.1:${port}` }, ...app });
}
console.error(`serving ${shape} on ${server} 127.0.0.1:${port}`);
