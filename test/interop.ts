/**
 * The interop suites: real uWSGI, nginx, net-snmp, Erlang and chromium from
 * Debian's packages against this project. Run on the machine's Node only
 * (`node scripts/test.mjs --runtime=interop [filter]`).
 */
import { runAll } from './lib/harness.ts';
import './interop/client.test.ts';
import './interop/nginx.test.ts';
import './interop/spooler.test.ts';
import './interop/snmp.test.ts';
import './interop/dashboard.test.ts';

const failed = await runAll(process.argv[2] ?? '');
process.exit(failed ? 1 : 0);
