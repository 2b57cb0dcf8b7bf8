/** The Bun binding: web Workers, Bun's own sockets where they serve, node:* modules elsewhere. */
import type { RuntimeBinding } from '../../ts/platform/binding.ts';
import { bufferWriter } from '../common/text.ts';
import { bunThreads } from './threads.ts';
import { bunProcess } from './process.ts';
import { bunFiles } from './files.ts';
import { bunNet } from './net.ts';

export const binding: RuntimeBinding = {
  name: 'bun',
  get version() { return (globalThis as unknown as { process: { versions: { bun: string } } }).process.versions.bun; },
  prepareWasm() {},
  // JavaScriptCore allocates a small array faster than a view into a pool is made.
  smallOwnArrays: true,
  // Buffer#utf8Write: native, no result object per call.
  utf8Writer: bufferWriter,
  ...bunThreads,
  ...bunProcess,
  ...bunFiles,
  ...bunNet,
};
