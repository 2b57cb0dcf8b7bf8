/** Writing a string's UTF-8 into a fixed region, the fastest way each runtime has. */
import { Buffer } from 'node:buffer';

const utf8 = new TextEncoder();

/** `TextEncoder#encodeInto`: native everywhere (Deno's `Buffer#utf8Write` is JavaScript). */
export function encodeIntoWriter(target: Uint8Array): (text: string) => number {
  return (text) => utf8.encodeInto(text, target).written;
}

/**
 * Node and Bun: `Buffer#utf8Write` over the same memory, native and without
 * the result object `encodeInto` allocates per call.
 */
export function bufferWriter(target: Uint8Array): (text: string) => number {
  const view = Buffer.from(target.buffer, target.byteOffset, target.byteLength) as Buffer & { utf8Write?(s: string, o: number, n: number): number };
  if (typeof view.utf8Write !== 'function') return encodeIntoWriter(target);
  const n = target.byteLength;
  return (text) => view.utf8Write!(text, 0, n);
}
