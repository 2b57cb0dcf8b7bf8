/**
 * `uwsgi-wasm/spooler`: spool files byte for byte as uWSGI writes them, the
 * loop a spooler thread runs, and the spooler's per-thread API.
 * @module
 */
export {
  SPOOL_OK, SPOOL_RETRY, SPOOL_IGNORE, SpoolerApi, enqueueSpoolPacket, spoolPacketHook, spoolerOf,
  type SpoolOptions, type SpoolTask, type SpoolerFunction, type SpoolTaskInfo,
} from '../spooler/spooler.ts';
export { SpoolerLoop, type SpoolerLoopOptions, type TaskOutcome } from '../spooler/loop.ts';
export { encodeSpoolFile, decodeSpoolFile, taskDict, taskFileName, parseMarked, naturalCompare, type SpoolFile, type SpoolPairs } from '../spooler/file.ts';
export { type SpoolerConfig, type SpoolDirConfig } from '../spooler/config.ts';
