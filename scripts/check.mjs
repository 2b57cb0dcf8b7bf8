// Structure checks `npm test` runs before the suites (each prints `ok`/`FAIL`
// and the closing `N passed, N failed` line the test runner adds up):
// - no import cycle among ts/ and bindings/ (madge, type-only imports included);
// - runtime names only in bindings/ and ts/platform/ (the sealed runtime boundary);
// - every ts/ subsystem folder has its test folder beside it.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import madge from 'madge';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
function report(name, problems) {
  if (problems.length === 0) { passed++; console.log(`ok   ${name}`); return; }
  failed++;
  console.log(`FAIL ${name}\n${problems.map((p) => `     ${p}`).join('\n')}`);
}

function files(dir) {
  return readdirSync(join(root, dir)).flatMap((f) => {
    const p = join(dir, f);
    return statSync(join(root, p)).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// 1. Import cycles.
const graph = await madge([join(root, 'ts'), join(root, 'bindings')], {
  baseDir: root,
  fileExtensions: ['ts'],
  tsConfig: join(root, 'tsconfig.json'),
  detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
});
report('no import cycles in ts/ and bindings/ (type-only imports included)', graph.circular().map((c) => c.join(' > ')));

// 2. Runtime names stay behind the platform boundary.
const RUNTIME_NAMES = [
  [/\bDeno\b/, 'Deno'], [/\bBun\b/, 'Bun'], [/(?<![.\w])process\b(?!\s*[:(])/, 'process'], [/\bBuffer\b/, 'Buffer'],
  [/\bnavigator\b/, 'navigator'], 
];
const leaks = [];
for (const f of files('ts')) {
  if (f.startsWith('ts/platform/')) continue;
  readFileSync(join(root, f), 'utf8').split('\n').forEach((line, i) => {
    // Code only: comments and the insides of string literals (import paths, messages) do not count.
    const code = line.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''").replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '').replace(/\/\*.*?\*\//g, '');
    for (const [re, what] of RUNTIME_NAMES) if (re.test(code)) leaks.push(`${f}:${i + 1}: names ${what}: ${line.trim()}`);
  });
  for (const m of readFileSync(join(root, f), 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
    if (m[1].includes('/bindings/')) leaks.push(`${f}: imports ${m[1]} (only ts/platform/ may import a binding)`);
    if (m[1].startsWith('node:')) leaks.push(`${f}: imports ${m[1]} (node: modules belong to the bindings)`);
  }
}
report('runtime names (Deno, Bun, process, Buffer, navigator, node:*) only in bindings/ and ts/platform/', leaks);

// 3. One folder per subsystem, its tests beside it.
const missing = readdirSync(join(root, 'ts')).filter((d) => statSync(join(root, 'ts', d)).isDirectory() && !['exports', 'platform'].includes(d))
  .filter((d) => !existsSync(join(root, 'test', d)))
  .map((d) => `ts/${d}/ has no test/${d}/`);
report('every ts/ subsystem has test/<subsystem>/', missing);

console.log(`[structure] ${passed} passed, ${failed} failed, 0 skipped`);
process.exit(failed ? 1 : 0);
