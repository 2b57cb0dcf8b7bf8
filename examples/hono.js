// A Hono app served by uwsgi-wasm: Hono apps are Fetch handlers, so the default
// export is the app itself (it has a `fetch` method).
//   uwsgi-wasm --workers 2 --http-socket :8080 --cache2 name=default,items=1000 examples/hono.js
// The same file runs on Node, Deno and Bun.
import { Hono } from 'hono';
import uwsgi from 'uwsgi-wasm';

const app = new Hono();

app.get('/', (c) => c.text(`Hello from worker ${uwsgi.worker_id()}\n`));

// Hono's `c.env` is the second argument of fetch: uwsgi-wasm's ctx, whose `env` is the CGI environ.
app.get('/env', (c) => c.json({ method: c.env.env.REQUEST_METHOD, path: c.env.env.PATH_INFO, remote: c.env.remoteAddr }));

app.put('/cache/:key', async (c) => {
  uwsgi.cache_update(c.req.param('key'), new Uint8Array(await c.req.arrayBuffer()));
  return c.body(null, 204);
});

app.get('/cache/:key', (c) => {
  const v = uwsgi.cache_get(c.req.param('key'));
  return v === null ? c.text('not cached\n', 404) : c.body(v);
});

export default app;
