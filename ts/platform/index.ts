/**
 * The runtime this code runs on, picked once: the only file in ts/ that
 * imports bindings/. Everything else in ts/ calls {@link runtime} and uses the
 * types of ./binding.ts; no other file names Deno, Bun, `process` or a `node:`
 * module.
 *
 * One detection module rather than package `exports` conditions: the library
 * is one bundle that every runtime loads (dist/index.js, with dist/worker.js,
 * which the master starts by URL for each thread and which no package
 * resolution sees), so a condition could not pick the binding for the
 * threads; and the three bindings together are a few kilobytes.
 * @module
 */
import { binding as nodeBinding } from '../../bindings/node/index.ts';
import { binding as denoBinding } from '../../bindings/deno/index.ts';
import { binding as bunBinding } from '../../bindings/bun/index.ts';
import type { RuntimeBinding } from './binding.ts';

/** The interface's types, so ts/ imports everything of the platform from here. */
export type * from './binding.ts';

let detected: RuntimeBinding | undefined;

/** The binding for the runtime this code runs on (detected on the first call). */
export function runtime(): RuntimeBinding {
  if (detected) return detected;
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  detected = g.Deno !== undefined ? denoBinding : g.Bun !== undefined ? bunBinding : nodeBinding;
  return detected;
}
