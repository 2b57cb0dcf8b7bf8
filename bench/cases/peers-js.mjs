// In-process JS peers added to the cache rows: @isaacs/ttlcache (a TTL-first
// cache, the other well-kept choice next to lru-cache) and Map in the mix row.
// Same data as the rows they join: 16-byte keys, 32-byte values, 10k keys.
import { filled, mapCache } from '../cases.mjs';
import { CACHE_GET, CACHE_MIX, CACHE_SET } from './names.mjs';

async function ttlCache() {
  const { TTLCache } = await import('@isaacs/ttlcache');
  return filled(new TTLCache({ max: 20_000, ttl: 600_000 }));
}

/** Every 10th op a set, the others gets: the 90:10 mix of the rows above. */
function mix(get, set, next, value) {
  let n = 0;
  return () => (++n % 10 === 0 ? set(next(), value) : get(next()));
}

export default [
  {
    ...CACHE_GET, extends: true,
    subjects: {
      '@isaacs/ttlcache': async () => { const { c, next } = await ttlCache(); return () => c.get(next()); },
    },
  },
  {
    ...CACHE_SET, extends: true,
    subjects: {
      '@isaacs/ttlcache': async () => { const { c, next, value } = await ttlCache(); return () => c.set(next(), value); },
    },
  },
  {
    ...CACHE_MIX, extends: true,
    subjects: {
      '@isaacs/ttlcache': async () => { const { c, next, value } = await ttlCache(); return mix((k) => c.get(k), (k, v) => c.set(k, v), next, value); },
      'Map': async () => { const { c, next, value } = mapCache(); return mix((k) => c.get(k), (k, v) => c.set(k, v), next, value); },
    },
  },
];
