/**
 * `uwsgi-wasm/stats`: the stats document (uWSGI's JSON), the master's stats
 * server and SNMP agent, the dashboard page, and `top` (the terminal view).
 * @module
 */
export {
  MasterServices, StatsServer, SnmpAgent, startStatsServer, startSnmpAgent, engineSnmpSource, engineStatsSources, statusTableCounters, LOG_TAIL,
  STATS_MAX_CONNECTIONS,
  type StatsServerOptions,
} from '../observability/services.ts';
export { nextCronFiring, type CronRow, type LockHolder, type SignalRow, type TimerRow } from '../observability/sections.ts';
export { COLLECTORS, collectStats, renderStats, type StatsSources, type StatsValue, type ThreadRow, type WorkerCounters, type Collector } from '../observability/stats.ts';
export { SnmpResponder, UWSGI_OID, type SnmpSource } from '../observability/snmp-agent.ts';
export { DASHBOARD_HTML } from '../observability/dashboard.ts';
export { TopView, readStats, runTop, parseTopArgs, humanSize, TOP_USAGE, type TopOptions, type TopDoc, type TopWorker, type TopIo } from '../observability/top.ts';
