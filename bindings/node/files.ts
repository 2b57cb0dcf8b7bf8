/** Node's files: node:fs, watched with a non-persistent `fs.watch`. */
import type { RuntimeFiles } from '../../ts/platform/binding.ts';
import { commonFiles, watchPathNode } from '../common/files.ts';

export const nodeFiles: RuntimeFiles = { ...commonFiles, watchPath: watchPathNode };
