/**
 * The one copy-out pool: values copied out of a shared memory (the engine's,
 * or the codec's private core) into arrays the caller keeps. A new ArrayBuffer
 * per value costs more than the copy (V8 allocates arrays over 64 bytes
 * outside its heap, about 1 µs; some runtimes pay about 300 ns at any size), so results up
 * to 4 KiB are views cut from a 64 KiB pooled buffer, as Node cuts its small
 * byte arrays: each view is handed out once, at an 8-aligned offset (its
 * `byteOffset` may be non-zero: transfer a copy, not `.buffer`). Larger results
 * get a buffer of their own.
 * @module
 */

/** Bytes of each pooled buffer. */
const POOL_SIZE = 64 * 1024;
/** Largest result cut from the pool. */
export const POOL_MAX = 4096;

let pool = new ArrayBuffer(POOL_SIZE);
let pool8 = new Uint8Array(pool);
let pool32 = new Int32Array(pool);
let used = 0;

/** A fresh pooled buffer (the old one stays with the views cut from it). */
function refill(): void {
  pool = new ArrayBuffer(POOL_SIZE);
  pool8 = new Uint8Array(pool);
  pool32 = new Int32Array(pool);
  used = 0;
}

/**
 * A fresh array holding the `length` bytes at `from` of the memory that `mem`
 * and `mem32` view: copied by 4-byte words, so `from` must be 4-aligned (the
 * bytes up to the next word boundary are read too). The cache's reads.
 */
export function copyOutWords(mem: Uint8Array, mem32: Int32Array, from: number, length: number): Uint8Array {
  if (length > POOL_MAX) return mem.slice(from, from + length);
  // A pool whose buffer a user transferred (detached) is replaced too.
  if (used + length > POOL_SIZE || pool.byteLength === 0) refill();
  const d = used >> 2;
  const s = from >>> 2;
  const words = (length + 3) >> 2;
  for (let i = 0; i < words; i++) pool32[d + i] = mem32[s + i];
  const out = new Uint8Array(pool, used, length);
  used = (used + length + 7) & ~7;
  return out;
}

/**
 * A fresh array holding `src[from, from + length)`, copied with one `set` (any
 * alignment; engines copy fast when `from` and the result are aligned alike
 * modulo 8, and results start 8-aligned). The codec's encoders.
 */
export function copyOutBytes(src: Uint8Array, from: number, length: number): Uint8Array {
  let out: Uint8Array;
  if (length > POOL_MAX) out = new Uint8Array(length);
  else {
    if (used + length > POOL_SIZE || pool.byteLength === 0) refill();
    out = pool8.subarray(used, used + length);
    used = (used + length + 7) & ~7;
  }
  out.set(src.subarray(from, from + length));
  return out;
}
