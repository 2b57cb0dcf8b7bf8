/** Node's process: the `process` global for ids, signals, arguments, exit and the title. */
import type { RuntimeProcess } from '../../ts/platform/binding.ts';
import { commonProcess } from '../common/process.ts';

/** This runtime's process facts and control (the RuntimeProcess part of its binding). */
export const proc: RuntimeProcess = {
  ...commonProcess,
  pid: () => process.pid,
  exit: (code) => process.exit(code),
  onTerminationSignal(fn) {
    const a = () => fn('SIGINT');
    const b = () => fn('SIGTERM');
    process.on('SIGINT', a);
    process.on('SIGTERM', b);
    return () => { process.off('SIGINT', a); process.off('SIGTERM', b); };
  },
  args: () => process.argv.slice(2),
  setProcessTitle(title) {
    try { process.title = title; return true; } catch { return false; }
  },
};
