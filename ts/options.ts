/**
 * Options, named as in uWSGI, from a JS object, a command line or a uWSGI-style
 * `.ini` file. Unknown options are refused; options of subsystems not built yet
 * are accepted and recorded in `opt`.
 * @module
 */
import { UwsgiError } from './errors.ts';

/** A value as given: a string, `true` for a flag, or a list for a repeated option. */
export type OptionValue = string | number | boolean | Array<string | number>;

/** Options as a JS object: uWSGI's option names as keys (`{ workers: 2, 'buffer-size': 8192 }`). */
export interface Options {
  /** Worker threads the master starts (`--workers`, alias `--processes`, `-p`). Default 1. */
  workers?: number;
  processes?: number;
  /** Accepted for uWSGI configs; `uwsgi.run()` always has a master. */
  master?: boolean;
  /** `--locks N`: N+1 user locks, numbered 0..N (lock 0 always exists). Default 0. */
  locks?: number;
  /**
   * `--sharedarea`: one entry per area, in id order. A number is a count of 4096-byte
   * pages; a string may also be `pages=N` or `size=BYTES` (decimal or 0x hex).
   */
  sharedarea?: number | string | Array<number | string>;
  /** `--queue N`: slots of the shared queue (default 0: no queue; at most 1,000,000). */
  queue?: number;
  /**
   * `--queue-blocksize B`: bytes per queue slot, including a 16-byte header, so a
   * message holds at most B-16 bytes. Default 8192; 17..16 MiB.
   */
  'queue-blocksize'?: number;
  /** `--rpc-max N`: how many RPC functions can be registered at once, across all threads (default 64). */
  'rpc-max'?: number;
  /**
   * `--mules N`: add N plain mules (they run no file; they take messages and drop
   * them, as uWSGI's signal mules do). Repeatable; adds up. Mule ids follow option order.
   */
  mules?: number | number[];
  /** `--mule file.js`: add one mule running that file (`true`: a plain mule). Repeatable. */
  mule?: string | true | Array<string>;
  /** `--farm name:1,2`: a farm (a named group of mules sharing one mailbox). Repeatable. */
  farm?: string | string[];
  /** `--buffer-size`: the uwsgi packet buffer, in bytes (default 4096, max 65535). */
  'buffer-size'?: number;
  /** Thread slots reserved beyond the master, workers, mules and spoolers, for threads an embedder attaches (default 8). */
  'extra-threads'?: number;
  /** Every other option of uWSGI that this project knows; see {@link KNOWN_OPTIONS}. */
  [name: string]: OptionValue | undefined;
}

interface OptionSpec {
  /** `flag` takes no value; `list` may repeat; `value` keeps the last one. */
  kind: 'flag' | 'value' | 'list';
  /** Built and meaningful in this version (others are recorded only). */
  built: boolean;
  /** Canonical name when this one is an alias. */
  alias?: string;
}

/** Every option name this project accepts, with whether it is built yet. */
export const KNOWN_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  workers: { kind: 'value', built: true },
  processes: { kind: 'value', built: true, alias: 'workers' },
  p: { kind: 'value', built: true, alias: 'workers' },
  master: { kind: 'flag', built: true },
  locks: { kind: 'value', built: true },
  sharedarea: { kind: 'list', built: true },
  A: { kind: 'list', built: true, alias: 'sharedarea' },
  'buffer-size': { kind: 'value', built: true },
  b: { kind: 'value', built: true, alias: 'buffer-size' },
  'extra-threads': { kind: 'value', built: true },
  // Each `mules` adds that many plain mules, each `mule` one (running a file if given): ids in option order.
  mules: { kind: 'list', built: true },
  mule: { kind: 'list', built: true },
  farm: { kind: 'list', built: true },
  'die-on-term': { kind: 'flag', built: true },
  ini: { kind: 'list', built: true },
  // uWSGI options that name a Python plugin or app: recorded so configs carry over.
  plugin: { kind: 'list', built: true },
  plugins: { kind: 'list', built: true, alias: 'plugin' },
  'wsgi-file': { kind: 'value', built: true },
  // Recorded now, built by later subsystems.
  cache2: { kind: 'list', built: false },
  cache: { kind: 'value', built: false },
  'cache-blocksize': { kind: 'value', built: false },
  'cache-expire-freq': { kind: 'value', built: false },
  'cache-store': { kind: 'value', built: false },
  'cache-store-sync': { kind: 'value', built: false },
  queue: { kind: 'value', built: true },
  'queue-blocksize': { kind: 'value', built: true },
  'queue-store': { kind: 'value', built: false },
  'queue-store-sync': { kind: 'value', built: false },
  spooler: { kind: 'list', built: false },
  'spooler-processes': { kind: 'value', built: false },
  'spooler-frequency': { kind: 'value', built: false },
  'spooler-ordered': { kind: 'flag', built: false },
  harakiri: { kind: 'value', built: false },
  socket: { kind: 'list', built: false },
  s: { kind: 'list', built: false, alias: 'socket' },
  'http-socket': { kind: 'list', built: false },
  stats: { kind: 'value', built: false },
  'stats-http': { kind: 'flag', built: false },
  snmp: { kind: 'value', built: false },
  'snmp-community': { kind: 'value', built: false },
  'rpc-max': { kind: 'value', built: true },
  mount: { kind: 'list', built: false },
  'enable-metrics': { kind: 'flag', built: false },
};

/** Options after validation: what the engine is laid out from. */
export interface Config {
  workers: number;
  locks: number;
  /** Size in bytes of each shared area, in id order. */
  sharedareas: number[];
  bufferSize: number;
  extraThreads: number;
  /** Slots of the shared queue (`--queue`); 0: no queue. */
  queue: number;
  /** Bytes per queue slot, its 16-byte header included (`--queue-blocksize`, default 8192). */
  queueBlocksize: number;
  /** Functions the RPC registry holds (`--rpc-max`, default 64). */
  rpcMax: number;
  /** One entry per mule, in id order (mule id = index + 1): the file it runs, or null for a plain mule. */
  mules: Array<string | null>;
  /** Farms in option order, each with its mule ids (1-based). */
  farms: Array<{ name: string; mules: number[] }>;
  /** Every option as given, canonical names, in the order given (last value for single options). */
  given: Array<[string, string | true]>;
  /** The app file (command-line positional argument), if any. */
  app?: string;
}

const PAGE_SIZE = 4096;

function fail(msg: string): never { throw new UwsgiError('ERR_OPTION', msg); }

function canonical(name: string): [string, OptionSpec] {
  const spec = KNOWN_OPTIONS[name];
  if (!spec) fail(`unknown option '${name}'`);
  return spec.alias ? [spec.alias, KNOWN_OPTIONS[spec.alias]] : [name, spec];
}

function toStr(name: string, v: unknown): string | true {
  if (v === true) return true;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  fail(`option '${name}': expected a string, number or true, got ${v === null ? 'null' : typeof v}`);
}

/** Flatten any accepted form into (name, value) pairs with canonical names. */
export function pairsFromObject(opts: Options): Array<[string, string | true]> {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) fail('options must be an object');
  const out: Array<[string, string | true]> = [];
  for (const [rawName, value] of Object.entries(opts)) {
    if (value === undefined || value === false) continue;
    const [name, spec] = canonical(rawName);
    if (Array.isArray(value)) {
      if (spec.kind !== 'list') fail(`option '${rawName}' does not take a list`);
      for (const v of value) out.push([name, toStr(rawName, v)]);
    } else {
      if (spec.kind === 'flag' && value !== true && value !== 'true' && value !== 1 && value !== '1') {
        fail(`option '${rawName}' is a flag: use true`);
      }
      out.push([name, spec.kind === 'flag' ? true : toStr(rawName, value)]);
    }
  }
  return out;
}

/**
 * Parse command-line arguments (`--workers 2 --cache2 name=a,items=10 app.js`).
 * `--name=value` and `--name value` are both accepted; flags take no value.
 * Returns the options and the positional app path.
 */
export function parseArgv(argv: readonly string[]): { pairs: Array<[string, string | true]>; app?: string } {
  const pairs: Array<[string, string | true]> = [];
  let app: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('-') && a.length > 1) {
      const body = a.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const rawName = eq >= 0 ? body.slice(0, eq) : body;
      const [name, spec] = canonical(rawName);
      if (spec.kind === 'flag') {
        if (eq >= 0) fail(`option '--${rawName}' is a flag and takes no value`);
        pairs.push([name, true]);
      } else if (eq >= 0) {
        pairs.push([name, body.slice(eq + 1)]);
      } else {
        if (i + 1 >= argv.length) fail(`option '--${rawName}' needs a value`);
        pairs.push([name, argv[++i]]);
      }
    } else if (app === undefined) {
      app = a;
    } else {
      fail(`unexpected argument '${a}' (the app file is already '${app}')`);
    }
  }
  return { pairs, app };
}

/** Parse a uWSGI-style ini text; only the `[uwsgi]` section is read. */
export function parseIni(text: string, source = 'ini'): Array<[string, string | true]> {
  const pairs: Array<[string, string | true]> = [];
  let inSection = false;
  text.split(/\r?\n/).forEach((line, n) => {
    const t = line.trim();
    if (t === '' || t.startsWith(';') || t.startsWith('#')) return;
    const sec = /^\[(.+)\]$/.exec(t);
    if (sec) { inSection = sec[1].trim() === 'uwsgi'; return; }
    if (!inSection) return;
    const eq = t.indexOf('=');
    const rawName = (eq >= 0 ? t.slice(0, eq) : t).trim();
    if (rawName === '') fail(`${source}:${n + 1}: missing option name`);
    const [name, spec] = canonical(rawName);
    const value = eq >= 0 ? t.slice(eq + 1).trim() : 'true';
    if (spec.kind === 'flag') {
      if (!/^(true|1|yes|on)?$/i.test(value)) return; // 'false'/'0' leaves the flag off
      pairs.push([name, true]);
    } else {
      pairs.push([name, value]);
    }
  });
  return pairs;
}

function intOption(name: string, v: string | true | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (v === true || !/^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(v)) fail(`option '${name}': expected an integer, got '${String(v)}'`);
  const n = Number(v);
  if (n < min || n > max) fail(`option '${name}': ${n} is outside ${min}..${max}`);
  return n;
}

function sharedareaSize(spec: string): number {
  if (/^\s*\d+\s*$/.test(spec)) return intOption('sharedarea', spec, 0, 1, 65535) * PAGE_SIZE;
  let size: number | undefined;
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (eq < 0) fail(`option 'sharedarea': expected key=value, got '${part}'`);
    if (key === 'pages') size = intOption('sharedarea pages', val, 0, 1, 65535) * PAGE_SIZE;
    else if (key === 'size') size = intOption('sharedarea size', val, 0, 1, 0xffff0000);
    else if (key === 'file' || key === 'fd' || key === 'ptr' || key === 'offset') {
      throw new UwsgiError('ERR_UNSUPPORTED', `option 'sharedarea': '${key}=' (file- or fd-backed areas) is not supported; areas live in the shared wasm memory`);
    } else fail(`option 'sharedarea': unknown key '${key}'`);
  }
  if (size === undefined) fail(`option 'sharedarea': one of pages= or size= is required in '${spec}'`);
  return size;
}

/**
 * Validate options from any source into a {@link Config}. `pairs` are canonical
 * (name, value) pairs in order; `ini` options are expanded in place.
 */
export function configFromPairs(pairs: Array<[string, string | true]>, app?: string): Config {
  const expanded: Array<[string, string | true]> = [];
  for (const [name, value] of pairs) {
    if (name === 'ini') {
      if (value === true) fail(`option 'ini' needs a file path`);
      expanded.push([name, value]);
      // Read lazily through the runtime binding so options.ts stays runtime-neutral.
      expanded.push(...parseIni(readFileForIni(value), value));
    } else expanded.push([name, value]);
  }
  const last = (n: string) => { let v: string | true | undefined; for (const [k, x] of expanded) if (k === n) v = x; return v; };
  const all = (n: string) => expanded.filter(([k]) => k === n).map(([, v]) => v);
  const sharedareas = all('sharedarea').map((v) => {
    if (v === true) fail(`option 'sharedarea' needs a value`);
    return sharedareaSize(v);
  });
  const mules: Array<string | null> = [];
  for (const [k, v] of expanded) {
    if (k === 'mules') for (let i = intOption('mules', v, 0, 0, 1024); i > 0; i--) mules.push(null);
    else if (k === 'mule') mules.push(v === true || v === '' || v === 'true' ? null : v);
  }
  if (mules.length > 1024) fail(`option 'mules': at most 1024 mules, got ${mules.length}`);
  const farms = all('farm').map((v) => farmSpec(v, mules.length));
  for (let i = 0; i < farms.length; i++) {
    if (farms.findIndex((f) => f.name === farms[i].name) !== i) fail(`option 'farm': farm '${farms[i].name}' is defined twice`);
  }
  return {
    mules,
    farms,
    workers: intOption('workers', last('workers'), 1, 1, 1024),
    locks: intOption('locks', last('locks'), 0, 0, 4096),
    sharedareas,
    bufferSize: intOption('buffer-size', last('buffer-size'), 4096, 1, 65535),
    extraThreads: intOption('extra-threads', last('extra-threads'), 8, 0, 1024),
    queue: intOption('queue', last('queue'), 0, 0, 1_000_000),
    rpcMax: intOption('rpc-max', last('rpc-max'), 64, 1, 65536),
    queueBlocksize: intOption('queue-blocksize', last('queue-blocksize'), 8192, 17, 16 * 1024 * 1024),
    given: expanded,
    app,
  };
}

/** `name:1,2,3`: a farm name and the ids (1..mules) of its mules. */
function farmSpec(v: string | true, mules: number): { name: string; mules: number[] } {
  if (v === true) fail(`option 'farm' needs a value such as 'name:1,2'`);
  const colon = v.indexOf(':');
  if (colon < 0) fail(`option 'farm': expected 'name:1,2' (a name, a colon, mule ids), got '${v}'`);
  const name = v.slice(0, colon).trim();
  if (name === '') fail(`option 'farm': empty farm name in '${v}'`);
  if (new TextEncoder().encode(name).length > FARM_NAME_MAX) fail(`option 'farm': farm name '${name}' is longer than ${FARM_NAME_MAX} bytes`);
  const ids: number[] = [];
  for (const part of v.slice(colon + 1).split(',')) {
    if (part.trim() === '') continue;
    const id = intOption('farm', part, 0, 1, 1024);
    if (id > mules) fail(`option 'farm': farm '${name}' names mule ${id}, but ${mules === 0 ? 'no mule is configured' : `mules are 1..${mules}`}`);
    if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length === 0) fail(`option 'farm': farm '${name}' has no mule ids`);
  return { name, mules: ids };
}

/** Longest farm name, in UTF-8 bytes. */
export const FARM_NAME_MAX = 255;

let iniReader: (path: string) => string = () => fail(`option 'ini' is not available here`);
/** Installed by the engine: how `ini=` files are read on this runtime. */
export function setIniReader(fn: (path: string) => string): void { iniReader = fn; }
function readFileForIni(path: string): string {
  try { return iniReader(path); } catch (e) {
    if (e instanceof UwsgiError) throw e;
    throw new UwsgiError('ERR_OPTION', `option 'ini': cannot read '${path}': ${(e as Error).message}`);
  }
}

/** Options from a JS object. */
export function configFromOptions(opts: Options = {}): Config {
  return configFromPairs(pairsFromObject(opts));
}

/** uWSGI's `opt` dict: each option's last value (strings), flags as `true`. */
export function optDict(cfg: Config): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const [k, v] of cfg.given) out[k] = v;
  return out;
}
