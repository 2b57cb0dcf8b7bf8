/** Deno's files: node:fs, watched with `Deno.watchFs` (Deno's node:fs watch cannot be made non-persistent). */
import type { RuntimeFiles } from '../../ts/platform/binding.ts';
import { commonFiles } from '../common/files.ts';

interface DenoFs { watchFs(path: string): AsyncIterable<{ kind: string }> & { close(): void } }
const deno = () => (globalThis as unknown as { Deno: DenoFs }).Deno;

/** This runtime's files (the RuntimeFiles part of its binding). */
export const files: RuntimeFiles = {
  ...commonFiles,
  // The watcher keeps the process alive while it watches (the README's table says so).
  watchPath(path, onChange) {
    const w = deno().watchFs(path);
    let open = true;
    void (async () => {
      try {
        for await (const e of w) if (open && e.kind !== 'access' && e.kind !== 'other') onChange();
      } catch { /* closed */ }
    })();
    return () => { if (open) { open = false; w.close(); } };
  },
};
