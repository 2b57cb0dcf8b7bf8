/**
 * The spooler's options, as uWSGI 2.0 names them, validated into a
 * {@link SpoolerConfig}. Options that would have no meaning in a process
 * whose spoolers are threads are refused with a reason, not silently ignored.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { type GivenOptions, intValue, lastValue, optionError } from '../kernel/option-values.ts';

/** One spool directory (`--spooler DIR` or `--spooler-external DIR`). */
export interface SpoolDirConfig {
  /**
   * The directory. As given in the options until the engine starts; the engine
   * then creates it if missing (mode 0750, as uWSGI) and stores its real path,
   * which is what task file paths and the `spooler` key compare against.
   */
  path: string;
  /** `--spooler-external`: tasks are written here but no spooler thread runs them (another instance does). */
  external: boolean;
}

/** The spooler options after validation. */
export interface SpoolerConfig {
  /** Spool directories in option order; the first is the default target and the one `spooler_jobs()` lists. */
  dirs: SpoolDirConfig[];
  /** `--spooler-processes N`: spooler threads per (non-external) directory. Default 1, at most 64. */
  processes: number;
  /** `--spooler-frequency S` (alias `--spooler-freq`): seconds between two scans when nothing wakes the spooler. Default 30. */
  frequency: number;
  /** `--spooler-ordered`: scan in natural (version) order, so priority 1 runs before 2 before 10 before unprioritised tasks. */
  ordered: boolean;
  /** `--spooler-quiet`: no log line per task. */
  quiet: boolean;
  /** `--spooler-max-tasks N`: a spooler thread is recycled (ends and is respawned) after N tasks. 0 (default): never. */
  maxTasks: number;
  /** `--spooler-harakiri S`: the master kills a spooler thread whose task runs longer than S seconds. 0 (default): never. */
  harakiri: number;
  /**
   * `--spooler-import FILE` (aliases `spooler-pyimport`, `spooler-py-import`, `spooler-python-import`):
   * files every spooler thread imports instead of the app, to register the spooler function.
   */
  imports: string[];
  /**
   * `--spooler-packet-rate N`: spool packets (modifier 17, from the network)
   * accepted per second by the whole engine; more are refused. Default 100, 0: no limit.
   */
  packetRate: number;
  /**
   * `--spooler-max-bytes N`: a spool packet is refused while its target
   * directory (with its priority subdirectories, each counted as 4096 bytes)
   * holds N bytes or more. Default 64 MiB, 0: no limit.
   */
  maxBytes: number;
}

/** Default of `--spooler-packet-rate`: spool packets accepted per second. */
export const DEFAULT_PACKET_RATE = 100;
/** Default of `--spooler-max-bytes`: bytes a spool directory may hold before spool packets are refused. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Option names of the spooler, with their kind for options.ts's table. */
export const SPOOLER_OPTIONS = {
  spooler: { kind: 'list', built: true },
  Q: { kind: 'list', built: true, alias: 'spooler' },
  'spooler-external': { kind: 'list', built: true },
  'spooler-processes': { kind: 'value', built: true },
  'spooler-frequency': { kind: 'value', built: true },
  'spooler-freq': { kind: 'value', built: true, alias: 'spooler-frequency' },
  'spooler-ordered': { kind: 'flag', built: true },
  'spooler-quiet': { kind: 'flag', built: true },
  'spooler-max-tasks': { kind: 'value', built: true },
  'spooler-harakiri': { kind: 'value', built: true },
  'spooler-import': { kind: 'list', built: true },
  'spooler-pyimport': { kind: 'list', built: true, alias: 'spooler-import' },
  'spooler-py-import': { kind: 'list', built: true, alias: 'spooler-import' },
  'spooler-python-import': { kind: 'list', built: true, alias: 'spooler-import' },
  'spooler-packet-rate': { kind: 'value', built: true },
  'spooler-max-bytes': { kind: 'value', built: true },
  // Refused when given (see REFUSED below): accepted names, so the refusal can say why.
  'spooler-chdir': { kind: 'value', built: false },
  'spooler-signal-as-task': { kind: 'flag', built: false },
  'touch-spoolers-reload': { kind: 'list', built: false },
} as const;

/** Most spooler threads per directory. */
export const MAX_SPOOLER_PROCESSES = 64;

const REFUSED: Record<string, string> = {
  'spooler-chdir': 'spooler threads share the process working directory with every worker, so a chdir before each task would move them all; use absolute paths in spooler functions',
  'spooler-signal-as-task': 'uWSGI signals are not delivered to spooler threads yet',
  'touch-spoolers-reload': 'file monitors are not built yet',
};

/** Validate the spooler options among `pairs` (canonical names, in order). */
export function spoolerConfig(pairs: GivenOptions): SpoolerConfig {
  const last = (n: string) => lastValue(pairs, n);
  for (const [k] of pairs) {
    if (k in REFUSED) throw new UwsgiError('ERR_UNSUPPORTED', `option '${k}' is not supported: ${REFUSED[k]}`);
  }
  const dirs: SpoolDirConfig[] = [];
  for (const [k, v] of pairs) {
    if (k !== 'spooler' && k !== 'spooler-external') continue;
    if (v === true || v.trim() === '') optionError(`option '${k}' needs a directory`);
    if (v.includes('\0')) optionError(`option '${k}': the directory name contains a NUL byte`);
    dirs.push({ path: v, external: k === 'spooler-external' });
  }
  const imports: string[] = [];
  for (const [k, v] of pairs) {
    if (k !== 'spooler-import') continue;
    if (v === true || v.trim() === '') optionError(`option 'spooler-import' needs a file`);
    imports.push(v);
  }
  const ordered = last('spooler-ordered') === true;
  return {
    dirs,
    processes: intValue('spooler-processes', last('spooler-processes'), 1, 1, MAX_SPOOLER_PROCESSES),
    frequency: intValue('spooler-frequency', last('spooler-frequency'), 30, 1, 86400),
    ordered,
    quiet: last('spooler-quiet') === true,
    maxTasks: intValue('spooler-max-tasks', last('spooler-max-tasks'), 0, 0, 0x7fffffff),
    harakiri: intValue('spooler-harakiri', last('spooler-harakiri'), 0, 0, 86400),
    imports,
    packetRate: intValue('spooler-packet-rate', last('spooler-packet-rate'), DEFAULT_PACKET_RATE, 0, 0x7fffffff),
    maxBytes: intValue('spooler-max-bytes', last('spooler-max-bytes'), DEFAULT_MAX_BYTES, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** One spooler thread: its id (1-based, in directory order) and the index of its directory. */
export interface SpoolerThreadPlan { ident: number; dir: number }

/** The spooler threads a master starts: `processes` per non-external directory. */
export function spoolerThreads(cfg: SpoolerConfig): SpoolerThreadPlan[] {
  const out: SpoolerThreadPlan[] = [];
  cfg.dirs.forEach((d, dir) => {
    if (d.external) return;
    for (let i = 0; i < cfg.processes; i++) out.push({ ident: out.length + 1, dir });
  });
  return out;
}
