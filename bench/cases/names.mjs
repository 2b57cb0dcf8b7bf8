// The suite and case names of rows other files add peers to (`extends: true`),
// in one place so a renamed row fails loudly at load instead of losing its peers.
// Exports no rows itself.

export const CACHE_GET = { suite: 'cache', case: 'get (16 B key, 32 B value, 10k keys)' };
export const CACHE_SET = { suite: 'cache', case: 'set (overwrite)' };
export const CACHE_MIX = { suite: 'cache', case: '90:10 get:set mix' };
/** The read-scaling row: 2000 gets per op by one thread, or split over two sharing the store. */
export const CACHE_THREADS = { suite: 'cache', case: '2000 gets: 1 thread vs 2 threads sharing the cache' };
export const LOCKS = { suite: 'locks', case: 'lock+unlock' };
export const INCLONG = { suite: 'sharedarea', case: 'inclong' };
export const QUEUE = { suite: 'queue', case: 'push+pull (16-byte value)' };
export const RPC = { suite: 'rpc', case: 'round trip to another thread' };
export const MULE = { suite: 'mules', case: 'message to a mule, acknowledged' };
/** Hello world through nginx under wrk; the protocol row adds its `uwsgi-wasm` subjects here. */
export const NGINX_HELLO = { suite: 'http', case: 'hello world through nginx (wrk)' };
/**
 * Our hello world in both app shapes, where rows run it in both: a peer's
 * like-for-like ratio is the row of its own shape (a `(req, res)` listener for
 * node:http, a Fetch handler for Deno.serve and Bun.serve).
 */
export const FETCH_APP = 'uwsgi-wasm (Fetch app)';
export const LISTENER_APP = 'uwsgi-wasm ((req, res) app)';
/** The Fetch hello world served by the runtime's own Fetch server (`--http-native`: Deno.serve, Bun.serve; node:http on Node). */
export const NATIVE_APP = 'uwsgi-wasm (Fetch app, --http-native)';

export default [];
