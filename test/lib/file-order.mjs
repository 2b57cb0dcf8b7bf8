// The order the test files run in, on every runtime (vitest's sequencer in
// vitest.config.ts and the Deno/Bun bundle scripts/test.mjs builds both use
// it). All files share one process and the one copy of the built library, and
// some state lives as long as the process: the default `uwsgi` export is a
// standalone engine only until a master starts in that process, so
// kernel/engine.test.ts must run before any suite that starts one. This is the
// order the suites have always run in; a file not listed runs after these, in
// path order.
export const FILE_ORDER = [
  'test/lib/vitest-portable.test.ts',
  'test/kernel/options.test.ts',
  'test/kernel/engine.test.ts',
  'test/kernel/abi.test.ts',
  'test/locks/locks.test.ts',
  'test/locks/locks.threads.test.ts',
  'test/sharedarea/sharedarea.test.ts',
  'test/sharedarea/sharedarea.threads.test.ts',
  'test/process/cli.test.ts',
  'test/queue/queue.test.ts',
  'test/queue/queue.threads.test.ts',
  'test/rpc/rpc.test.ts',
  'test/rpc/rpc.threads.test.ts',
  'test/mules/mules.test.ts',
  'test/mules/mules.threads.test.ts',
  'test/cache/cache.test.ts',
  'test/cache/cache.model.test.ts',
  'test/cache/cache.threads.test.ts',
  'test/cache/cache.hints.test.ts',
  'test/process/process.test.ts',
  'test/process/process.threads.test.ts',
  'test/signals/signals.test.ts',
  'test/signals/signals.threads.test.ts',
  'test/client/client.test.ts',
  'test/spooler/spooler.test.ts',
  'test/spooler/spooler.threads.test.ts',
  'test/protocol/codec.test.ts',
  'test/server/listeners.test.ts',
  'test/cache/cache.store.test.ts',
  'test/process/extract.test.ts',
  'test/observability/snmp.test.ts',
  'test/observability/stats.test.ts',
  'test/client/uwsgi.interop.test.ts',
  'test/server/nginx.interop.test.ts',
  'test/spooler/uwsgi.interop.test.ts',
  'test/observability/snmp.interop.test.ts',
  'test/observability/dashboard.interop.test.ts',
];

/** `paths` (relative to the project root, `/`-separated) in FILE_ORDER's order. */
export function inFileOrder(paths) {
  const rank = (p) => {
    const i = FILE_ORDER.indexOf(p);
    return i < 0 ? FILE_ORDER.length : i;
  };
  return [...paths].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}
