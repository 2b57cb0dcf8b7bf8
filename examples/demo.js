// The demo `npm start` runs:
//   uwsgi-wasm --workers 2 --sharedarea 1 --locks 4 --queue 16 --cache2 name=default,items=100 \
//     --mule examples/demo-mule.js --spooler build/demo-spool --spooler-quiet \
//     --http-socket 127.0.0.1:9090 --stats 127.0.0.1:9191 --stats-http \
//     --snmp=127.0.0.1:1161 --snmp-community public examples/demo.js
// Each worker thread imports this file; both see the same shared memory. Every line a
// thread prints starts with who printed it ([worker N], [mule N], [spooler]); lines
// starting with `uwsgi-wasm:` come from the master (on stderr).
//
// What happens, in order (about 5 s; without --stats the demo then ends by itself; with --stats,
// as `npm start` runs it, the workers then send themselves a small request load over
// --http-socket, which they serve with `fetch` below, so the dashboard has something to show,
// until Ctrl-C):
//   1. both workers add to a shared counter, take a user lock, share the cache, message the
//      mule and hand a task to the spooler;
//   2. worker 1 adds a timer (signal 17, every second) and a cron entry (signal 18, every
//      minute) that the master runs; the master hands each signal to the first available worker;
//   3. worker 2 takes lock 2, arms a 1 s user harakiri and blocks its thread: the master kills
//      it, frees the lock and respawns it; the new worker 2 takes lock 2 again.
import uwsgi from 'uwsgi-wasm';

// Layout of sharedarea 0 used by the demo (i32 words unless said):
//   0: i64 counter bumped with sharedarea_inclong (atomic under the area lock)
//   8: "last writer" updated under user lock 1 together with 12
//  12: number of locked updates
//  16: workers finished (a barrier, waited on with Atomics)
//  20: messages the mule acknowledged
//  24: spooler tasks done (with --spooler)
//  28: timer signals handled
//  32: cron signals handled
//  36: harakiri stage: 0 not yet, 1 worker 2 holds lock 2 and is stuck, 2 the respawned worker 2 took lock 2 again
const ROUNDS = 100_000;
const TIMER_SIGNAL = 17;
const CRON_SIGNAL = 18;
const HARAKIRI_LOCK = 2;
const W = { barrier: 4, acked: 5, spooled: 6, timer: 7, cron: 8, harakiri: 9 };

const text = new TextDecoder();
function words() {
  const view = uwsgi.sharedarea(0).view();
  return new Int32Array(view.buffer, view.byteOffset, 16);
}

/** Wait, without blocking the event loop (signal handlers keep running), until words[i] >= n. */
async function until(w, i, n) {
  for (;;) {
    const v = Atomics.load(w, i);
    if (v >= n) return;
    await Atomics.waitAsync(w, i, v, 1000).value;
  }
}

// Spooler threads import this file too: there, register the function that runs spooled tasks.
if (uwsgi.i_am_the_spooler()) {
  uwsgi.spooler = (task) => {
    // The dashboard's background tasks run quietly.
    if (task.background) return uwsgi.SPOOL_OK;
    console.log(`[spooler] task from worker ${text.decode(task.from)}: ${text.decode(task.body)}`);
    const w = words();
    Atomics.add(w, W.spooled, 1);
    Atomics.notify(w, W.spooled);
    return uwsgi.SPOOL_OK;
  };
}

// Every worker registers the signal handlers when it imports the app (as every uWSGI worker
// inherits them), so a respawned worker has them too. Target '' (the first available worker):
// the master routes each signal to an idle worker that has a handler.
if (uwsgi.worker_id() > 0) {
  uwsgi.register_signal(TIMER_SIGNAL, '', (num) => {
    const n = Atomics.add(words(), W.timer, 1) + 1;
    Atomics.notify(words(), W.timer);
    console.log(`[worker ${uwsgi.worker_id()}] timer: signal ${num} (add_timer, every 1 s), tick ${n}`);
  });
  uwsgi.register_signal(CRON_SIGNAL, '', (num) => {
    const n = Atomics.add(words(), W.cron, 1) + 1;
    Atomics.notify(words(), W.cron);
    const t = new Date();
    const hhmm = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
    console.log(`[worker ${uwsgi.worker_id()}] cron: signal ${num} (add_cron -1 -1 -1 -1 -1) at ${hhmm}, run ${n}`);
  });
}

/** The respawned worker 2: it takes over the lock its killed predecessor held. */
function afterHarakiri(w) {
  const me = uwsgi.worker_id();
  const info = uwsgi.workers().find((x) => x.id === me);
  console.log(`[worker ${me}] respawned by the master (respawn_count ${info?.respawn_count}); taking lock ${HARAKIRI_LOCK}`);
  let recovered = false;
  uwsgi.onLockRecovered = (n) => { recovered = true; console.log(`[worker ${me}] lock ${n} was held by the killed worker: taken over`); };
  uwsgi.lock(HARAKIRI_LOCK);
  uwsgi.unlock(HARAKIRI_LOCK);
  console.log(`[worker ${me}] lock ${HARAKIRI_LOCK} is usable again${recovered ? '' : ' (already freed by the master)'}`);
  Atomics.store(w, W.harakiri, 2);
  Atomics.notify(w, W.harakiri);
}

/** Worker 2's first life: hold a lock and block the thread until the master's harakiri kills it. */
function blockUntilKilled(w) {
  const me = uwsgi.worker_id();
  uwsgi.lock(HARAKIRI_LOCK);
  uwsgi.set_user_harakiri(1);
  console.log(`[worker ${me}] holding lock ${HARAKIRI_LOCK} and blocking the thread past its 1 s set_user_harakiri deadline`);
  Atomics.store(w, W.harakiri, 1);
  Atomics.notify(w, W.harakiri);
  // Stuck: never yields to the event loop. The bound only matters on Deno, which cannot stop a
  // thread that never yields: the master quarantines it and respawns the worker, and this loop
  // ends once the new worker is up (or after 15 s) instead of spinning until the process exits.
  const end = Date.now() + 15_000;
  while (Atomics.load(w, W.harakiri) < 2 && Date.now() < end) { /* busy */ }
  // Only a thread the runtime could not stop gets here: it has been replaced, so it stays quiet.
  return new Promise(() => {});
}

export default async function main() {
  const me = uwsgi.worker_id();
  const area = uwsgi.sharedarea(0);
  const w = words();
  if (Atomics.load(w, W.harakiri) === 1) {
    afterHarakiri(w);
    if (uwsgi.opt.stats) await serveTraffic(me);
    return;
  }
  console.log(`[worker ${me}] up: ${uwsgi.numproc} workers, master pid ${uwsgi.masterpid()}, sharedarea 0 is ${area.size} bytes`);

  for (let i = 0; i < ROUNDS; i++) uwsgi.sharedarea_inclong(0);
  uwsgi.cache_set(`greeting-from-${me}`, `hello from worker ${me}`);
  uwsgi.cache_inc('visits');

  for (let i = 0; i < 1000; i++) {
    uwsgi.lock(1);
    area.write32(8, me);
    area.write32(12, area.read32(12) + 1);
    uwsgi.unlock(1);
  }
  console.log(`[worker ${me}] added ${ROUNDS} to the shared counter; it reads ${uwsgi.sharedarea_readlong(0)} now`);

  // Barrier: count ourselves in, then wait (without blocking the event loop) for the others.
  area.inc32(16);
  Atomics.notify(w, W.barrier);
  await until(w, W.barrier, uwsgi.numproc);
  console.log(`[worker ${me}] everyone finished: counter = ${uwsgi.sharedarea_readlong(0)} (expected ${ROUNDS * uwsgi.numproc}), ` +
    `${area.read32(12)} locked updates, last by worker ${area.read32(8)}`);
  const other = me === 1 ? 2 : 1;
  const greeting = uwsgi.cache_get(`greeting-from-${other}`);
  console.log(`[worker ${me}] cache: '${greeting && text.decode(greeting)}', visits = ${uwsgi.cache_num('visits')}`);

  // Tell the mule, through its shared-memory mailbox, and wait for its acknowledgements.
  uwsgi.mule_msg(`worker ${me} saw counter ${uwsgi.sharedarea_readlong(0)}`, 1);
  await until(w, W.acked, uwsgi.numproc);

  // With --spooler: hand a task to the spooler (a file in uWSGI's format) and wait until it ran.
  if (uwsgi.spoolers) {
    uwsgi.spool({ from: String(me) }, { body: `the counter read ${uwsgi.sharedarea_readlong(0)}` });
    await until(w, W.spooled, uwsgi.numproc);
  }

  // Timer and cron: the master's scheduler raises the signals, a worker's handler runs them.
  if (me === 1) {
    uwsgi.add_timer(TIMER_SIGNAL, 1);
    // Every field -1: every minute matches, so it fires at once, then every 60 s.
    uwsgi.add_cron(CRON_SIGNAL, -1, -1, -1, -1, -1);
    console.log(`[worker ${me}] added a timer (signal ${TIMER_SIGNAL}, every 1 s) and a cron entry ` +
      `(signal ${CRON_SIGNAL}, -1 -1 -1 -1 -1: fires now, then every minute)`);
  }
  await until(w, W.cron, 1);
  await until(w, W.timer, 2);

  // Harakiri: worker 2 gets stuck holding a lock; worker 1 goes on handling signals meanwhile.
  if (me === 2 && uwsgi.numproc >= 2) return blockUntilKilled(w);
  if (uwsgi.numproc >= 2) await until(w, W.harakiri, 2);
  // Threads' output reaches the terminal asynchronously: let worker 2's lines land first.
  await new Promise((r) => setTimeout(r, 100));
  const info = uwsgi.workers();
  console.log(`[worker ${me}] done: ${Atomics.load(w, W.timer)} timer and ${Atomics.load(w, W.cron)} cron signal(s) handled; ` +
    `respawns: ${info.map((x) => `worker ${x.id} ${x.respawn_count}`).join(', ')}`);

  // With --stats (as `npm start` runs it), stay up and make traffic for the dashboard
  // (http://127.0.0.1:9191/dashboard) and the SNMP agent, until Ctrl-C stops the master.
  if (uwsgi.opt.stats) await serveTraffic(me);
}

/**
 * With --http-socket (as `npm start` runs it): each request looks an item up in the cache and
 * stores it on a miss, as a caching front end would. The workers serve it while their main
 * function runs; the listener counts every request in the worker's row (requests, avg rt...).
 */
export async function fetch(request) {
  const key = new URL(request.url).pathname.slice(1) || 'index';
  let value = uwsgi.cache_get(key);
  if (value === null) {
    // A miss costs a little work (a "backend" call) and fills the cache for 30 s.
    await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
    value = `value of ${key}`;
    uwsgi.cache_update(key, value, 30);
  }
  uwsgi.snmp_incr_counter64(uwsgi.worker_id(), 1);       // .2.1, .2.2: requests per worker
  return new Response(value);
}

async function serveTraffic(me) {
  const listener = uwsgi.opt['http-socket'];
  console.log(`[worker ${me}] making cache and SNMP traffic; dashboard on http://${uwsgi.opt.stats}/dashboard, ` +
    `snmpwalk -v2c -c ${uwsgi.opt['snmp-community'] ?? 'public'} ${uwsgi.opt.snmp ?? '127.0.0.1:1161'} 1.3.6.1.4.1.35156.17` +
    (listener ? `; requests to itself on http://${listener}/` : ''));
  const keys = 50 * me;
  // Lock 3 is held across a short wait below: when Ctrl-C stops a worker in that wait, the
  // other one takes the lock over, and says so on its own line.
  uwsgi.onLockRecovered = (n) => console.log(`[worker ${me}] lock ${n} was held by a stopped worker: taken over`);
  for (let tick = 0; ; tick++) {
    // A skewed key pattern: recent keys hit, new ones miss and are stored, so the hit rate moves.
    const batch = [];
    for (let i = 0; i < 10 * me; i++) {
      const key = `item-${Math.floor(Math.random() * keys * (1 + (tick % 10) / 10))}`;
      // A connection per request, as from many clients: kept-alive connections would stay with
      // whichever worker accepted them first, and the other worker's row would stay at 0.
      if (listener) {
        const init = { headers: { connection: 'close' }, signal: AbortSignal.timeout(2000) };
        batch.push(globalThis.fetch(`http://${listener}/${key}`, init).then((r) => r.text(), () => null));
      } else if (uwsgi.cache_get(key) === null) uwsgi.cache_update(key, `value of ${key}`, 30);
    }
    await Promise.all(batch);
    uwsgi.snmp_set_gauge(10, Math.floor(Math.random() * 100)); // .2.10: a gauge that moves
    // Something for the other panels: now and then a message for the mule (it takes one a second)
    // and a spooled task, a queue that fills and drains at random, and a user lock held across a
    // short wait.
    if (Math.random() < 0.3) uwsgi.mule_msg(`tick ${tick} of worker ${me}`, 1);
    if (Math.random() < 0.5) uwsgi.queue_push(`worker ${me} tick ${tick}`);
    else uwsgi.queue_pull();
    if (tick % 4 === 0) uwsgi.spool({ background: '1', from: String(me) });
    try {
      uwsgi.lock(3);
    } catch (e) {
      // Ctrl-C while the other worker holds the lock: this worker is stopping, so it ends its load here.
      if (e?.code === 'ERR_STOPPED') return;
      throw e;
    }
    await new Promise((r) => setTimeout(r, 100));
    uwsgi.unlock(3);
    await new Promise((r) => setTimeout(r, 400));
  }
}
