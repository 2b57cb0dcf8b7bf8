// nginx → our `--socket` listener (issue 6): a master in the row's process with
// 2 workers (threads) serving our hello world, behind nginx's `uwsgi_pass`,
// under wrk. It joins the http suite's hello-world case, whose peers are
// nginx → Node http (one process, a `(req, res)` listener) and nginx → real
// uWSGI (python, 2 processes). Our hello world runs in both app shapes; the
// `(req, res)` row is the like-for-like one against Node http.
import { freePort } from '../lib/proc.mjs';
import { nginxWrk } from '../lib/wrk.mjs';
import { FETCH_APP, LISTENER_APP, NGINX_HELLO } from './names.mjs';

const LIB = new URL('../../dist/index.js', import.meta.url).href;

/** A master with 2 workers serving fixtures/`app` with `--socket` on a free 127.0.0.1 port. */
function ourListener(app) {
  return async () => {
    const { run } = await import(LIB);
    const port = await freePort();
    const file = new URL(`../fixtures/${app}`, import.meta.url).pathname;
    const master = await run({ options: { workers: 2, socket: `127.0.0.1:${port}` }, app: file, handleSignals: false });
    await master.ready();
    return { address: `127.0.0.1:${port}`, protocol: 'uwsgi', stop: () => master.stop() };
  };
}

export default [
  {
    ...NGINX_HELLO,
    extends: true,
    subjects: {
      [FETCH_APP]: { threads: 2, setup: nginxWrk(ourListener('hello-app.mjs')) },
      [LISTENER_APP]: { threads: 2, setup: nginxWrk(ourListener('hello-listener.mjs')) },
    },
  },
];
