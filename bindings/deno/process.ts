/** Deno's process: the `Deno` namespace for the pid, signals, arguments and exit; Deno cannot rename its process. */
import type { RuntimeProcess } from '../../ts/platform/binding.ts';
import { commonProcess } from '../common/process.ts';

interface DenoNs {
  pid: number;
  args: string[];
  addSignalListener(s: string, f: () => void): void;
  removeSignalListener(s: string, f: () => void): void;
  exit(code: number): never;
}
const deno = () => (globalThis as unknown as { Deno: DenoNs }).Deno;

/** This runtime's process facts and control (the RuntimeProcess part of its binding). */
export const proc: RuntimeProcess = {
  ...commonProcess,
  pid: () => deno().pid,
  exit: (code) => deno().exit(code),
  onTerminationSignal(fn) {
    const a = () => fn('SIGINT');
    const b = () => fn('SIGTERM');
    deno().addSignalListener('SIGINT', a);
    deno().addSignalListener('SIGTERM', b);
    return () => { deno().removeSignalListener('SIGINT', a); deno().removeSignalListener('SIGTERM', b); };
  },
  args: () => deno().args,
  setProcessTitle: () => false,
};
