/** The Deno binding: web Workers, the Deno namespace, node:* modules where Deno implements them. */
import type { RuntimeBinding } from '../../ts/platform/binding.ts';
import { encodeIntoWriter } from '../common/text.ts';
import { threads } from './threads.ts';
import { proc } from './process.ts';
import { files } from './files.ts';
import { sockets } from './net.ts';

/** The deno binding: what ts/platform/index.ts picks on deno. */
export const binding: RuntimeBinding = {
  name: 'deno',
  get version() { return (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno; },
  prepareWasm() {},
  // Deno's own arrays cost about 300 ns at any size: a pooled view is cheaper.
  smallOwnArrays: false,
  // Deno's Buffer#utf8Write is JavaScript; its encodeInto is native.
  utf8Writer: encodeIntoWriter,
  ...threads,
  ...proc,
  ...files,
  ...sockets,
};
