// Network caches as peers of the cache rows: Redis through ioredis (each
// command awaited, and 100 commands per pipeline) and memcached through memjs,
// against servers started on 127.0.0.1 for the row and stopped after it. A row
// whose server is not installed is skipped with a note.
import net from 'node:net';
import { cacheData } from '../cases.mjs';
import { startMemcached, startRedis } from '../lib/proc.mjs';
import { CACHE_GET, CACHE_MIX, CACHE_SET } from './names.mjs';

/** Commands per pipeline in the pipelined rows. */
const PIPELINE = 100;

async function redis() {
  const server = await startRedis();
  const { default: Redis } = await import('ioredis');
  const client = new Redis({ host: server.host, port: server.port, maxRetriesPerRequest: 1 });
  const d = cacheData();
  const value = Buffer.from(d.value);
  const load = client.pipeline();
  for (const k of d.keys) load.set(k, value);
  await load.exec();
  const close = async () => { client.disconnect(); await server.stop(); };
  return { client, close, next: d.next, value };
}

/**
 * Store every key in one write of text-protocol `set ... noreply` commands,
 * then wait for `version`'s answer: memjs's one-at-a-time sets would take a
 * second per row here.
 */
function preloadMemcached({ host, port }, keys, value) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const v = Buffer.from(value).toString('latin1');
    let seen = '';
    s.on('data', (c) => {
      seen += c.toString('latin1');
      if (seen.includes('VERSION')) { s.destroy(); resolve(); } else if (/ERROR/.test(seen)) { s.destroy(); reject(new Error(`memcached preload: ${seen.trim().slice(0, 200)}`)); }
    });
    s.on('error', reject);
    s.write(keys.map((k) => `set ${k} 0 0 ${value.length} noreply\r\n${v}\r\n`).join('') + 'version\r\n', 'latin1');
  });
}

async function memcached() {
  const server = await startMemcached();
  const { default: memjs } = await import('memjs');
  const client = memjs.Client.create(`${server.host}:${server.port}`, { logger: { log() {} } });
  const d = cacheData();
  const value = Buffer.from(d.value);
  await preloadMemcached(server, d.keys, value);
  const check = await client.get(d.keys[0]);
  if (!check.value || !value.equals(check.value)) throw new Error('memcached preload: the first key does not read back');
  const close = async () => { client.close(); await server.stop(); };
  return { client, close, next: d.next, value };
}

/** Every 10th op a set, the others gets. */
function mixOp(get, set) {
  let n = 0;
  return () => (++n % 10 === 0 ? set() : get());
}

/** One pipeline of PIPELINE commands, `fill(pipeline)` adding each. */
function pipelined(client, add) {
  return () => {
    const p = client.pipeline();
    for (let i = 0; i < PIPELINE; i++) add(p, i);
    return p.exec();
  };
}

const subjects = {
  get: {
    'Redis (ioredis)': async () => { const r = await redis(); return { op: () => r.client.getBuffer(r.next()), close: r.close }; },
    'Redis (ioredis, pipelined)': async () => {
      const r = await redis();
      return { op: pipelined(r.client, (p) => p.getBuffer(r.next())), opsPerCall: PIPELINE, close: r.close };
    },
    'memcached (memjs)': async () => { const m = await memcached(); return { op: () => m.client.get(m.next()), close: m.close }; },
  },
  set: {
    'Redis (ioredis)': async () => { const r = await redis(); return { op: () => r.client.set(r.next(), r.value), close: r.close }; },
    'Redis (ioredis, pipelined)': async () => {
      const r = await redis();
      return { op: pipelined(r.client, (p) => p.set(r.next(), r.value)), opsPerCall: PIPELINE, close: r.close };
    },
    'memcached (memjs)': async () => { const m = await memcached(); return { op: () => m.client.set(m.next(), m.value, { expires: 0 }), close: m.close }; },
  },
  mix: {
    'Redis (ioredis)': async () => {
      const r = await redis();
      return { op: mixOp(() => r.client.getBuffer(r.next()), () => r.client.set(r.next(), r.value)), close: r.close };
    },
    'Redis (ioredis, pipelined)': async () => {
      const r = await redis();
      return { op: pipelined(r.client, (p, i) => (i % 10 === 9 ? p.set(r.next(), r.value) : p.getBuffer(r.next()))), opsPerCall: PIPELINE, close: r.close };
    },
    'memcached (memjs)': async () => {
      const m = await memcached();
      return { op: mixOp(() => m.client.get(m.next()), () => m.client.set(m.next(), m.value, { expires: 0 })), close: m.close };
    },
  },
};

export default [
  { ...CACHE_GET, extends: true, subjects: subjects.get },
  { ...CACHE_SET, extends: true, subjects: subjects.set },
  { ...CACHE_MIX, extends: true, subjects: subjects.mix },
];
