/** The behaviour suite: every file registers its tests; the same bundle runs on every runtime. */
import { runAll } from './lib/harness.ts';
import './kernel/options.test.ts';
import './kernel/engine.test.ts';
import './kernel/abi.test.ts';
import './locks/locks.test.ts';
import './locks/locks.threads.test.ts';
import './sharedarea/sharedarea.test.ts';
import './sharedarea/sharedarea.threads.test.ts';
import './process/cli.test.ts';
import './queue/queue.test.ts';
import './queue/queue.threads.test.ts';
import './rpc/rpc.test.ts';
import './rpc/rpc.threads.test.ts';
import './mules/mules.test.ts';
import './mules/mules.threads.test.ts';
import './cache/cache.test.ts';
import './cache/cache.model.test.ts';
import './cache/cache.threads.test.ts';
import './cache/cache.hints.test.ts';
import './process/process.test.ts';
import './process/process.threads.test.ts';
import './signals/signals.test.ts';
import './signals/signals.threads.test.ts';
import './client/client.test.ts';
import './spooler/spooler.test.ts';
import './spooler/spooler.threads.test.ts';
import './protocol/codec.test.ts';
import './server/listeners.test.ts';
import './cache/cache.store.test.ts';
import './process/extract.test.ts';
import './observability/snmp.test.ts';
import './observability/stats.test.ts';

const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const failed = await runAll(argv[0] ?? '');
// Threads and timers may still hold the event loop: leave with the verdict.
const exit = (globalThis as { Deno?: { exit(c: number): never } }).Deno?.exit ?? process.exit;
exit(failed ? 1 : 0);
