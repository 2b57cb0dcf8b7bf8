/**
 * vitest on Node, after a build: `npx vitest run --project behaviour` (the
 * suites every runtime runs) or `--project interop` (real uWSGI, nginx,
 * net-snmp, Erlang, chromium). `npm test` (scripts/test.mjs) runs both, and the
 * same behaviour files on Deno and Bun through the portable harness
 * (test/lib/vitest-portable.ts).
 */
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { inFileOrder } from './test/lib/file-order.mjs';
import { DEFAULT_TEST_TIMEOUT_MS } from './test/lib/vitest-portable.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const dist = `${root}dist/`;

/** Files in the order test/lib/file-order.mjs gives (vitest's default orders them by past durations). */
class FileOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const byPath = new Map(files.map((f) => [relative(root, f.moduleId).split(sep).join('/'), f]));
    return inFileOrder([...byPath.keys()]).map((p: string) => byPath.get(p)!);
  }
}

export default defineConfig({
  test: {
    // One process, one file at a time, as the suites expect: they start
    // masters, threads and listeners on fixed ports, and the machine has 2 cores.
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    isolate: false,
    sequence: { sequencer: FileOrder },
    // Bundles the thread fixtures (test/fixtures -> build/tests/fixtures) first.
    globalSetup: ['test/lib/bundle.mjs'],
    testTimeout: DEFAULT_TEST_TIMEOUT_MS,
    // 'uwsgi-wasm' (vite resolves the package's self-reference through its
    // exports to dist/) is the built library, loaded natively by Node and never
    // transformed by vite: the tests and the worker threads they start (which
    // load dist/worker.js) run the same library build.
    server: { deps: { external: [new RegExp(`^${dist.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)] } },
    // test/lib/harness-cases fail on purpose: only test/lib/vitest-portable.test.ts runs them.
    projects: [
      { extends: true, test: { name: 'behaviour', include: ['test/**/*.test.ts'], exclude: ['test/**/*.interop.test.ts', 'test/lib/harness-cases/**'] } },
      { extends: true, test: { name: 'interop', include: ['test/**/*.interop.test.ts'] } },
    ],
  },
});
