// Real uWSGI 2.0.21 as a peer: the same operations from Python inside uWSGI
// (bench/fixtures/uwsgi_ops.py), timed there with the same warm-up and
// batching. `native`: measured once per run, whatever JS runtime drives it.
import { uwsgiOps } from '../lib/uwsgi.mjs';
import { CACHE_GET, CACHE_MIX, CACHE_SET, INCLONG, LOCKS, QUEUE } from './names.mjs';

const peer = (op) => ({ 'uWSGI (python)': { native: true, setup: uwsgiOps(op) } });

export default [
  { ...CACHE_GET, extends: true, subjects: peer('cache_get') },
  { ...CACHE_SET, extends: true, subjects: peer('cache_set') },
  { ...CACHE_MIX, extends: true, subjects: peer('cache_mix') },
  { ...INCLONG, extends: true, subjects: peer('inclong') },
  { ...LOCKS, extends: true, subjects: peer('lock_unlock') },
  { ...QUEUE, extends: true, subjects: peer('queue_push_pull') },
];
