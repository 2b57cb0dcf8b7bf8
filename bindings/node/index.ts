/** The Node.js binding: worker_threads, node:* modules, a descriptor helper process to share listeners. */
import * as v8 from 'node:v8';
import type { RuntimeBinding } from '../../ts/platform/binding.ts';
import { bufferWriter } from '../common/text.ts';
import { threads } from './threads.ts';
import { proc } from './process.ts';
import { files } from './files.ts';
import { sockets } from './net.ts';

let wasmPrepared = false;

/** The node binding: what ts/platform/index.ts picks on node. */
export const binding: RuntimeBinding = {
  name: 'node',
  get version() { return process.versions.node; },
  prepareWasm() {
    if (wasmPrepared) return;
    wasmPrepared = true;
    // Node 20's baseline compiler (Liftoff) miscompiles a contended spin-lock
    // loop (research P1); later tiers are correct. Must run before compiling.
    if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--no-liftoff');
  },
  // V8: a view into the pool beats a small array of its own (measured; over 64 bytes V8 allocates off-heap, about 1 µs).
  smallOwnArrays: false,
  // Buffer#utf8Write: native, no result object per call.
  utf8Writer: bufferWriter,
  ...threads,
  ...proc,
  ...files,
  ...sockets,
};
