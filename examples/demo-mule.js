// The demo's mule (`--mule examples/demo-mule.js`): it receives one message
// from each worker through its shared-memory mailbox and acknowledges it; with --stats it then
// keeps taking the workers' messages, slowly, for the dashboard.
import uwsgi from 'uwsgi-wasm';

export default async function main() {
  const area = uwsgi.sharedarea(0);
  const view = area.view();
  const words = new Int32Array(view.buffer, view.byteOffset, 8);
  for (let i = 0; i < uwsgi.numproc; i++) {
    const msg = new TextDecoder().decode(await uwsgi.mule_get_msg());
    console.log(`[mule ${uwsgi.mule_id()}] got: ${msg}`);
    // Acknowledge at offset 20 so the sending workers can finish.
    Atomics.add(words, 5, 1);
    Atomics.notify(words, 5);
  }
  // With --stats (as `npm start` runs it) the workers keep sending; take one message a second,
  // quietly, so the dashboard shows the mailbox filling and draining.
  if (!uwsgi.opt.stats) return;
  for (;;) {
    await uwsgi.mule_get_msg();
    await new Promise((r) => setTimeout(r, 1000));
  }
}
