// Build everything: the wasm core (asc), the bundles (esbuild) and the
// declarations (tsc). `--if-stale` skips the steps whose outputs are newer
// than their sources, so `npm test` / `npm start` can call it every time.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const ifStale = process.argv.includes('--if-stale');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function newest(paths) {
  let t = 0;
  for (const p of paths) {
    const full = join(root, p);
    if (!existsSync(full)) continue;
    const st = statSync(full);
    if (st.isDirectory()) t = Math.max(t, newest(readdirSync(full).map((f) => join(p, f))));
    else t = Math.max(t, st.mtimeMs);
  }
  return t;
}
const oldest = (paths) => Math.min(...paths.map((p) => (existsSync(join(root, p)) ? statSync(join(root, p)).mtimeMs : 0)));
const stale = (outs, ins) => !ifStale || oldest(outs) < newest(ins);

if (stale(['build/core.wasm'], ['assembly', 'asconfig.json'])) {
  console.error('build: core (asc)');
  execFileSync(process.execPath, [join(root, 'node_modules/assemblyscript/bin/asc.js'), '--config', 'asconfig.json', '--target', 'release'], { cwd: root, stdio: 'inherit' });
}

// The package entry, its subpath exports (package.json `exports`), the thread entry, the CLI, the conformance runner.
const SUBPATHS = ['engine', 'codec', 'client', 'server', 'spooler', 'stats', 'erlang'];
const entries = {
  index: 'ts/index.ts',
  ...Object.fromEntries(SUBPATHS.map((n) => [n, `ts/exports/${n}.ts`])),
  worker: 'ts/worker.ts', cli: 'ts/cli.ts', conformance: 'test/conformance/runner.ts',
};
const outs = Object.keys(entries).map((e) => `dist/${e}.js`);
if (stale(outs, ['ts', 'bindings', 'test/conformance', 'build/core.wasm', 'package.json'])) {
  console.error('build: bundles (esbuild)');
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir: 'dist',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['node:*'],
    loader: { '.wasm': 'binary' },
    logLevel: 'warning',
  });
  console.error('build: declarations (tsc)');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
}

// Declarations keep the sources' `./x.ts` specifiers; consumers resolve `./x.js` to `./x.d.ts`.
function fixDeclarations(dir) {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) fixDeclarations(p);
    else if (p.endsWith('.d.ts')) writeFileSync(p, readFileSync(p, 'utf8').replace(/(from\s+['"]\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1.js$2').replace(/(import\(['"]\.{1,2}\/[^'"]+)\.ts(['"]\))/g, '$1.js$2'));
  }
}
fixDeclarations(join(root, 'dist/types'));
