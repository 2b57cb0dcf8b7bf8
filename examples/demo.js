// The demo `npm start` runs:
//   uwsgi-wasm --workers 2 --sharedarea 1 --locks 4 --cache2 name=default,items=100 \
//     --mule examples/demo-mule.js --spooler build/demo-spool --spooler-quiet \
//     --stats 127.0.0.1:9191 --stats-http --snmp=127.0.0.1:1161 --snmp-community public examples/demo.js
// Each worker thread imports this file; both see the same shared memory.
import uwsgi from 'uwsgi-wasm';

// Layout of sharedarea 0 used by the demo:
//   0: i64 counter bumped with sharedarea_inclong (atomic under the area lock)
//   8: i32 "last writer" updated under user lock 1 together with 12
//  12: i32 number of locked updates
//  16: i32 workers finished (a barrier, waited on with Atomics)
//  20: i32 messages the mule acknowledged
//  24: i32 spooler tasks done (with --spooler)
const ROUNDS = 100_000;

// Spooler threads import this file too: there, register the function that runs spooled tasks.
if (uwsgi.i_am_the_spooler()) {
  uwsgi.spooler = (task) => {
    console.log(`[spooler] task from worker ${new TextDecoder().decode(task.from)}: ${new TextDecoder().decode(task.body)}`);
    const view = uwsgi.sharedarea(0).view();
    const words = new Int32Array(view.buffer, view.byteOffset, 8);
    Atomics.add(words, 6, 1);
    Atomics.notify(words, 6);
    return uwsgi.SPOOL_OK;
  };
}

export default async function main() {
  const me = uwsgi.worker_id();
  const area = uwsgi.sharedarea(0);
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
  const view = area.view();
  const words = new Int32Array(view.buffer, view.byteOffset, 8);
  Atomics.notify(words, 4);
  for (;;) {
    const done = Atomics.load(words, 4);
    if (done >= uwsgi.numproc) break;
    await Atomics.waitAsync(words, 4, done, 1000).value;
  }
  console.log(`[worker ${me}] everyone finished: counter = ${uwsgi.sharedarea_readlong(0)} (expected ${ROUNDS * uwsgi.numproc}), ` +
    `${area.read32(12)} locked updates, last by worker ${area.read32(8)}`);
  const other = me === 1 ? 2 : 1;
  const greeting = uwsgi.cache_get(`greeting-from-${other}`);
  console.log(`[worker ${me}] cache: '${greeting && new TextDecoder().decode(greeting)}', visits = ${uwsgi.cache_num('visits')}`);

  // Tell the mule, through its shared-memory mailbox, and wait for its acknowledgements.
  uwsgi.mule_msg(`worker ${me} saw counter ${uwsgi.sharedarea_readlong(0)}`, 1);
  for (;;) {
    const acked = Atomics.load(words, 5);
    if (acked >= uwsgi.numproc) break;
    await Atomics.waitAsync(words, 5, acked, 1000).value;
  }

  // With --spooler: hand a task to the spooler (a file in uWSGI's format) and wait until it ran.
  if (uwsgi.spoolers) {
    uwsgi.spool({ from: String(me) }, { body: `the counter read ${uwsgi.sharedarea_readlong(0)}` });
    for (;;) {
      const done = Atomics.load(words, 6);
      if (done >= uwsgi.numproc) break;
      await Atomics.waitAsync(words, 6, done, 1000).value;
    }
  }

  // With --stats (as `npm start` runs it), stay up and make traffic for the dashboard
  // (http://127.0.0.1:9191/dashboard) and the SNMP agent, until Ctrl-C stops the master.
  if (uwsgi.opt.stats) await serveTraffic(me);
}

async function serveTraffic(me) {
  console.log(`[worker ${me}] making cache and SNMP traffic; dashboard on http://${uwsgi.opt.stats}/dashboard, ` +
    `snmpwalk -v2c -c ${uwsgi.opt['snmp-community'] ?? 'public'} ${uwsgi.opt.snmp ?? '127.0.0.1:1161'} 1.3.6.1.4.1.35156.17`);
  const keys = 50 * me;
  for (let tick = 0; ; tick++) {
    // A skewed key pattern: recent keys hit, new ones miss and are stored, so the hit rate moves.
    for (let i = 0; i < 20 * me; i++) {
      const key = `item-${Math.floor(Math.random() * keys * (1 + (tick % 10) / 10))}`;
      if (uwsgi.cache_get(key) === null) uwsgi.cache_update(key, `value of ${key}`, 30);
    }
    uwsgi.snmp_incr_counter64(me, 20 * me);          // .2.1, .2.2: lookups per worker
    uwsgi.snmp_set_gauge(10, Math.floor(Math.random() * 100)); // .2.10: a gauge that moves
    await new Promise((r) => setTimeout(r, 500));
  }
}
