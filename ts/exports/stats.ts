/**
 * `uwsgi-wasm/stats`: the stats document (uWSGI's JSON), the master's stats
 * server and SNMP agent, and the dashboard page.
 * @module
 */
export { MasterServices, StatsServer, SnmpAgent, startStatsServer, startSnmpAgent, engineSnmpSource, STATS_MAX_CONNECTIONS, type StatsServerOptions } from '../observability/services.ts';
export { COLLECTORS, collectStats, renderStats, type StatsSources, type StatsValue, type ThreadRow, type WorkerCounters, type Collector } from '../observability/stats.ts';
export { SnmpResponder, UWSGI_OID, type SnmpSource } from '../observability/snmp-agent.ts';
export { DASHBOARD_HTML } from '../observability/dashboard.ts';
