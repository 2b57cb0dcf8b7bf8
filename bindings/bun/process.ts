/** Bun's process: the `process` global (Bun's own) for the pid, signals, arguments, exit and the title. */
import type { RuntimeProcess } from '../../ts/platform/binding.ts';
import { commonProcess } from '../common/process.ts';

interface BunProcess {
  pid: number;
  argv: string[];
  title: string;
  on(s: string, f: () => void): void;
  off(s: string, f: () => void): void;
  exit(code: number): never;
}
const proc = () => (globalThis as unknown as { process: BunProcess }).process;

export const bunProcess: RuntimeProcess = {
  ...commonProcess,
  pid: () => proc().pid,
  exit: (code) => proc().exit(code),
  onTerminationSignal(fn) {
    const a = () => fn('SIGINT');
    const b = () => fn('SIGTERM');
    proc().on('SIGINT', a);
    proc().on('SIGTERM', b);
    return () => { proc().off('SIGINT', a); proc().off('SIGTERM', b); };
  },
  args: () => proc().argv.slice(2),
  setProcessTitle(title) {
    try { proc().title = title; return true; } catch { return false; }
  },
};
