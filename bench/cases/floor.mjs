// The physical floor of the cross-thread rows: the same wake-up done with
// bare postMessage and with Atomics.notify / Atomics.waitAsync (bench/lib/floor.mjs).
import { atomicsRoundTrip, postMessageRoundTrip } from '../lib/floor.mjs';
import { MULE, RPC } from './names.mjs';

export default [
  { ...RPC, extends: true, subjects: { 'Atomics.notify': atomicsRoundTrip } },
  { ...MULE, extends: true, subjects: { 'postMessage': postMessageRoundTrip, 'Atomics.notify': atomicsRoundTrip } },
];
