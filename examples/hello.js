// Hello world over both protocols:
//   uwsgi-wasm --workers 2 --socket 127.0.0.1:3031 --http-socket 127.0.0.1:8080 \
//     --cache2 name=default,items=100 examples/hello.js
// Each worker imports this file. `fetch` answers requests from nginx (uwsgi_pass
// to --socket) and from HTTP clients (--http-socket); the same listeners answer
// uWSGI's remote cache (modifier 111) and RPC (modifier 173) packets.
import uwsgi from 'uwsgi-wasm';

const text = new TextDecoder();
const bytes = new TextEncoder();

// RPC `hello`: 'hello:' followed by the arguments joined by ','. As in uWSGI (Python 3),
// arguments arrive as bytes and the result must be bytes.
uwsgi.register_rpc('hello', (...args) => bytes.encode(`hello:${args.map((a) => text.decode(a)).join(',')}`));

export default {
  async fetch(request, ctx) {
    const url = new URL(request.url);
    if (request.method === 'POST') {
      const body = new Uint8Array(await request.arrayBuffer());
      return new Response(`worker ${uwsgi.worker_id()} got ${body.length} bytes\n`);
    }
    const who = url.searchParams.get('name') ?? 'World';
    return new Response(`Hello ${who} from worker ${uwsgi.worker_id()} (${ctx.env.REQUEST_METHOD} ${ctx.env.PATH_INFO})\n`, {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  },
};
