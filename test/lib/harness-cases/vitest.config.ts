// vitest's own run of the cases, which test/lib/vitest-portable.test.ts starts
// with `--config` (the project's config leaves this folder out). Its reporter
// prints one line, `cases: [...]`: each test's full name, state, skip note and
// first error message, read from vitest's reporter API.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import type { Reporter } from 'vitest/node';

const outcomes: Reporter = {
  onTestRunEnd(modules) {
    const out = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const r = t.result();
        out.push({ name: t.fullName, state: r.state, note: r.state === 'skipped' ? r.note : undefined, error: r.errors?.[0]?.message });
      }
    }
    process.stdout.write(`cases: ${JSON.stringify(out)}\n`);
  },
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  cacheDir: fileURLToPath(new URL('../../../node_modules/.vite/harness-cases', import.meta.url)),
  test: { include: ['cases.test.ts'], reporters: [outcomes] },
});
