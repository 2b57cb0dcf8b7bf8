#!/usr/bin/env node
/**
 * `uwsgi-wasm [options] app.js`: start a master with uWSGI-named options.
 * `uwsgi-wasm top ADDRESS`: watch a stats server (ours or real uWSGI's) in uwsgitop's layout.
 * @module
 */
import { run, UwsgiError, VERSION } from './index.ts';
import { runtime } from './platform/index.ts';
import { parseTopArgs, runTop, TOP_USAGE } from './observability/top.ts';

const argv = runtime().args();

try {
  if (argv[0] === 'top') {
    if (argv.includes('--help') || argv.includes('-h')) console.log(TOP_USAGE);
    else await runTop(parseTopArgs(argv.slice(1)));
    runtime().exit(0);
  } else if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`uwsgi-wasm ${VERSION}\nusage: uwsgi-wasm [--workers N] [--sharedarea PAGES] [--locks N] [--ini FILE] [other uWSGI options] app.js\n       ${TOP_USAGE.slice('usage: '.length)}`);
  } else if (argv.includes('--version')) {
    console.log(VERSION);
  } else {
    const master = await run({ options: argv });
    const stats = master.services.stats;
    if (stats) console.error(`uwsgi-wasm: stats on ${stats.port === undefined ? stats.address.path : `${stats.address.host}:${stats.port}`}${master.engine.shared.config.statsHttp ? ` (dashboard: http://${stats.address.host}:${stats.port}/dashboard)` : ''}`);
    if (master.services.snmp) console.error(`uwsgi-wasm: SNMP agent on udp ${master.engine.shared.config.snmp !== true && master.engine.shared.config.snmp?.host}:${master.services.snmp.port}`);
    const code = await master.done;
    runtime().exit(code);
  }
} catch (e) {
  if (e instanceof UwsgiError) {
    console.error(`uwsgi-wasm: ${e.message}`);
    runtime().exit(2);
  }
  throw e;
}
