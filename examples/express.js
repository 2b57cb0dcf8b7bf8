// An Express app, unchanged, served by uwsgi-wasm's workers:
//   uwsgi-wasm --workers 4 --http-socket :8080 --cache2 name=default,items=1000 examples/express.js
// or behind nginx (`uwsgi_pass 127.0.0.1:3031;`) with --socket 127.0.0.1:3031.
// The default export is the app itself: a (req, res) listener, so each request
// gets the runtime's own IncomingMessage and ServerResponse, with the shared
// cache, signals, spooler and mules of uwsgi-wasm next to it.
import express from 'express';
import uwsgi from 'uwsgi-wasm';

const app = express();
app.use(express.json());

app.get('/', (req, res) => {
  res.send(`Hello from worker ${uwsgi.worker_id()} (request ${uwsgi.request_id()})\n`);
});

// A counter every worker shares: the cache lives in the one shared memory.
app.post('/visits', (req, res) => {
  uwsgi.cache_inc('visits', 1);                       // atomic across workers (creates the counter at 1)
  res.json({ visits: Number(uwsgi.cache_num('visits')), by: req.body?.name ?? 'anonymous' });
});

app.get('/cache/:key', (req, res) => {
  const v = uwsgi.cache_get(req.params.key);
  if (v === null) return res.status(404).send('not cached\n');
  res.type('application/octet-stream').send(Buffer.from(v));
});

export default app;
