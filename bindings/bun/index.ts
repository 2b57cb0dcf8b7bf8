/** The Bun binding: web Workers, Bun's own sockets where they serve, node:* modules elsewhere. */
import type { RuntimeBinding } from '../../ts/platform/binding.ts';
import { bufferWriter } from '../common/text.ts';
import { threads } from './threads.ts';
import { proc } from './process.ts';
import { files } from './files.ts';
import { sockets } from './net.ts';

/** The bun binding: what ts/platform/index.ts picks on bun. */
export const binding: RuntimeBinding = {
  name: 'bun',
  get version() { return (globalThis as unknown as { process: { versions: { bun: string } } }).process.versions.bun; },
  prepareWasm() {},
  // JavaScriptCore allocates a small array faster than a view into a pool is made.
  smallOwnArrays: true,
  // Buffer#utf8Write: native, no result object per call.
  utf8Writer: bufferWriter,
  ...threads,
  ...proc,
  ...files,
  ...sockets,
};
