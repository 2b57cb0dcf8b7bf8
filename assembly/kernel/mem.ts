// Tiny load/store helpers so the structure code reads as logic, not address
// arithmetic. Plain accessors are for data guarded by a lock (or owned by one
// thread); atomic ones say so in their name and publish/observe across threads.

import { LINE_SIZE } from "./abi";

@inline export function ld32(p: usize): i32 { return load<i32>(p); }
@inline export function st32(p: usize, v: i32): void { store<i32>(p, v); }
@inline export function ldu32(p: usize): u32 { return load<u32>(p); }
@inline export function stu32(p: usize, v: u32): void { store<u32>(p, v); }
@inline export function ld64(p: usize): i64 { return load<i64>(p); }
@inline export function st64(p: usize, v: i64): void { store<i64>(p, v); }

@inline export function aload32(p: usize): i32 { return atomic.load<i32>(p); }
@inline export function astore32(p: usize, v: i32): void { atomic.store<i32>(p, v); }
@inline export function aload64(p: usize): i64 { return atomic.load<i64>(p); }
@inline export function astore64(p: usize, v: i64): void { atomic.store<i64>(p, v); }
@inline export function cas32(p: usize, expected: i32, replacement: i32): i32 {
  return atomic.cmpxchg<i32>(p, expected, replacement);
}

/** Round `n` up to a multiple of `a` (a power of two). */
@inline export function alignUp(n: u32, a: u32): u32 { return (n + a - 1) & ~(a - 1); }

/** One cache line (abi.ts LINE_SIZE): shared words that different threads hammer live on their own line. */
export const LINE: u32 = LINE_SIZE;

/**
 * Copy `n` bytes between non-overlapping ranges. Short copies are a word loop:
 * the engines run `memory.copy` on a shared memory through a call into the
 * runtime, which costs more than copying a few dozen bytes.
 */
@inline export function copyBytes(dst: usize, src: usize, n: u32): void {
  if (n > 256) { memory.copy(dst, src, n); return; }
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) store<u64>(dst + i, load<u64>(src + i));
  for (; i < n; i++) store<u8>(dst + i, load<u8>(src + i));
}

/** Whether `n` bytes at `a` and `b` are equal (word by word, no runtime call). */
@inline export function sameBytes(a: usize, b: usize, n: u32): bool {
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}
