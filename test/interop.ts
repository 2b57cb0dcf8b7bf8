/**
 * The interop suites: real uWSGI, nginx, net-snmp, Erlang and chromium from
 * Debian's packages against this project. Run on the machine's Node only
 * (`node scripts/test.mjs --runtime=interop [filter]`).
 */
import { runAll } from './lib/harness.ts';
import './client/uwsgi.interop.test.ts';
import './server/nginx.interop.test.ts';
import './spooler/uwsgi.interop.test.ts';
import './observability/snmp.interop.test.ts';
import './observability/dashboard.interop.test.ts';

const failed = await runAll(process.argv[2] ?? '');
process.exit(failed ? 1 : 0);
