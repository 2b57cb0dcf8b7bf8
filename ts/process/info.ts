/**
 * What the process knows about itself for the `uwsgi` module: uWSGI's magic
 * table of config placeholders, and `extract`'s file reading.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { VERSION } from '../kernel/version.ts';
import { runtime } from '../platform/index.ts';

/**
 * The bytes of a file, as uWSGI's `extract(name)`: a path, or `file://path`;
 * null when the file does not exist. Other schemes are ERR_UNSUPPORTED.
 */
export function extractFile(name: unknown): Uint8Array | null {
  if (typeof name !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `extract: name must be a string, got ${typeof name}`);
  if (name.length === 0) throw new UwsgiError('ERR_VALUE_RANGE', 'extract: name is empty');
  let path = name;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(name);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'file') throw new UwsgiError('ERR_UNSUPPORTED', `extract: the '${scheme[1]}://' scheme is not supported by uwsgi-wasm (only paths and file://)`);
    path = name.slice(scheme[0].length);
  }
  try {
    return runtime().readFileBytes(path);
  } catch (e) {
    throw new UwsgiError('ERR_NOT_FOUND', `extract: cannot read '${path}': ${(e as Error).message}`);
  }
}

/** uWSGI's config magic variables for this engine, keyed by their letter (see `uwsgi.magic_table`). */
export function magicTable(ctx: ThreadContext): Record<string, string> {
  const s = ctx.shared;
  const rt = runtime();
  const env = rt.env();
  const { uid, gid } = rt.ids();
  const ids = [uid, gid];
  const cpus = rt.cpuCount();
  return {
    '%': '%',
    '(': '%(',
    G: env.GROUP ?? String(ids[1]),
    T: String(s.startedOn * 1_000_000),
    U: env.USER ?? env.LOGNAME ?? String(ids[0]),
    V: VERSION,
    '[': '\x1b',
    g: String(ids[1]),
    h: s.hostname,
    k: String(cpus),
    t: String(s.startedOn),
    u: String(ids[0]),
    v: s.cwd,
  };
}
