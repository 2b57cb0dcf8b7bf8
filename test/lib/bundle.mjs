// esbuild bundles of the tests, shared by scripts/test.mjs and vitest:
// - the thread fixtures, test/fixtures/*.ts -> build/tests/fixtures/*.js: the
//   suites start threads on those paths, so every run bundles them first (this
//   module's default export is vitest's globalSetup, so `npx vitest run` works
//   after a build, without scripts/test.mjs);
// - scripts/test.mjs's Deno/Bun bundle of the suites.
// Both keep `uwsgi-wasm` (and its subpaths) an import of the built package,
// dist/, so threads and tests share one copy of the library build.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

/** The project root. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

/** esbuild plugin: `uwsgi-wasm[/...]` resolved as the bundle would (package exports), then left an import of that file. */
const builtPackage = {
  name: 'uwsgi-wasm-external',
  setup(b) {
    b.onResolve({ filter: /^uwsgi-wasm(\/.*)?$/ }, async (a) => {
      if (a.pluginData === builtPackage) return undefined;
      const r = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, pluginData: builtPackage });
      if (r.errors.length) return { errors: r.errors };
      return { path: pathToFileURL(r.path).href, external: true };
    });
  },
};

/** The options every test bundle uses; `plugins` extends the built-package plugin. */
export function bundleOptions(plugins = []) {
  return {
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    // playwright-core (the dashboard's interop test) and the web frameworks the listener tests host stay package imports from node_modules.
    external: ['node:*', 'playwright-core', 'express', 'hono', 'hono/*'],
    logLevel: 'warning',
    plugins: [builtPackage, ...plugins],
  };
}

/** Bundle test/fixtures/*.ts into build/tests/fixtures/*.js. */
export async function bundleFixtures() {
  const fixtures = readdirSync(join(root, 'test/fixtures')).filter((f) => f.endsWith('.ts')).map((f) => `test/fixtures/${f}`);
  await esbuild.build({ ...bundleOptions(), entryPoints: fixtures, outdir: 'build/tests/fixtures' });
}

/** vitest's globalSetup (vitest.config.ts): the fixtures, before any test file runs. */
export default async function setup() {
  await bundleFixtures();
}
