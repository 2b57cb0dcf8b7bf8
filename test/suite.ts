/** The behaviour suite: every file registers its tests; the same bundle runs on every runtime. */
import { runAll } from './lib/harness.ts';
import './behaviour/options.test.ts';
import './behaviour/engine.test.ts';
import './behaviour/locks.test.ts';
import './behaviour/locks.threads.test.ts';
import './behaviour/sharedarea.test.ts';
import './behaviour/sharedarea.threads.test.ts';
import './behaviour/cli.test.ts';
import './behaviour/queue.test.ts';
import './behaviour/queue.threads.test.ts';
import './behaviour/rpc.test.ts';
import './behaviour/rpc.threads.test.ts';
import './behaviour/mules.test.ts';
import './behaviour/mules.threads.test.ts';
import './behaviour/cache.test.ts';
import './behaviour/cache.model.test.ts';
import './behaviour/cache.threads.test.ts';
import './behaviour/cache.hints.test.ts';
import './behaviour/process.test.ts';
import './behaviour/process.threads.test.ts';
import './behaviour/signals.test.ts';
import './behaviour/signals.threads.test.ts';
import './behaviour/client.test.ts';
import './behaviour/spooler.test.ts';
import './behaviour/spooler.threads.test.ts';
import './behaviour/codec.test.ts';
import './behaviour/listeners.test.ts';
import './behaviour/cache.store.test.ts';
import './behaviour/extract.test.ts';
import './behaviour/snmp.test.ts';
import './behaviour/stats.test.ts';

const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const failed = await runAll(argv[0] ?? '');
// Threads and timers may still hold the event loop: leave with the verdict.
const exit = (globalThis as { Deno?: { exit(c: number): never } }).Deno?.exit ?? process.exit;
exit(failed ? 1 : 0);
