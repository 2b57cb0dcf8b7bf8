/** The Deno binding: web Workers, the Deno namespace, node:* modules where Deno implements them. */
import type { RuntimeBinding } from '../../ts/platform/binding.ts';
import { encodeIntoWriter } from '../common/text.ts';
import { denoThreads } from './threads.ts';
import { denoProcess } from './process.ts';
import { denoFiles } from './files.ts';
import { denoNet } from './net.ts';

export const binding: RuntimeBinding = {
  name: 'deno',
  get version() { return (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno; },
  prepareWasm() {},
  // Deno's own arrays cost about 300 ns at any size: a pooled view is cheaper.
  smallOwnArrays: false,
  // Deno's Buffer#utf8Write is JavaScript; its encodeInto is native.
  utf8Writer: encodeIntoWriter,
  ...denoThreads,
  ...denoProcess,
  ...denoFiles,
  ...denoNet,
};
