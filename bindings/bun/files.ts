/** Bun's files: node:fs, watched with a non-persistent `fs.watch`. */
import type { RuntimeFiles } from '../../ts/platform/binding.ts';
import { commonFiles, watchPathNode } from '../common/files.ts';

/** This runtime's files (the RuntimeFiles part of its binding). */
export const files: RuntimeFiles = { ...commonFiles, watchPath: watchPathNode };
