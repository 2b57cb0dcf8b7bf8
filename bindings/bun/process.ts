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
const bunProcess = () => (globalThis as unknown as { process: BunProcess }).process;

/** This runtime's process facts and control (the RuntimeProcess part of its binding). */
export const proc: RuntimeProcess = {
  ...commonProcess,
  pid: () => bunProcess().pid,
  exit: (code) => bunProcess().exit(code),
  onTerminationSignal(fn) {
    const a = () => fn('SIGINT');
    const b = () => fn('SIGTERM');
    bunProcess().on('SIGINT', a);
    bunProcess().on('SIGTERM', b);
    return () => { bunProcess().off('SIGINT', a); bunProcess().off('SIGTERM', b); };
  },
  args: () => bunProcess().argv.slice(2),
  setProcessTitle(title) {
    try { bunProcess().title = title; return true; } catch { return false; }
  },
};
