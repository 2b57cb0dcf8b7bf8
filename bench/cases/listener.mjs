// nginx → our `--socket` listener (issue 6): a master in the row's process with
// 2 workers (threads) serving bench/fixtures/hello-app.mjs, behind nginx's
// `uwsgi_pass`, under wrk. It joins the http suite's hello-world case, whose
// peers are nginx → Node http (one process) and nginx → real uWSGI (python, 2 processes).
import { freePort } from '../lib/proc.mjs';
import { nginxWrk } from '../lib/wrk.mjs';
import { NGINX_HELLO } from './names.mjs';

const LIB = new URL('../../dist/index.js', import.meta.url).href;

/** A master with 2 workers listening with `--socket` on a free 127.0.0.1 port. */
async function ourListener() {
  const { run } = await import(LIB);
  const port = await freePort();
  const app = new URL('../fixtures/hello-app.mjs', import.meta.url).pathname;
  const master = await run({ options: { workers: 2, socket: `127.0.0.1:${port}` }, app, handleSignals: false });
  await master.ready();
  return { address: `127.0.0.1:${port}`, protocol: 'uwsgi', stop: () => master.stop() };
}

export default [
  {
    ...NGINX_HELLO,
    extends: true,
    subjects: {
      'uwsgi-wasm': { threads: 2, setup: nginxWrk(ourListener) },
    },
  },
];
