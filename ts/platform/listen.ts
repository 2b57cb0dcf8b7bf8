/**
 * The listening binding of the runtime this code runs on.
 * @module
 */
import { nodeListen } from '../../bindings/node/listen.ts';
import { denoListen } from '../../bindings/deno/listen.ts';
import { bunListen } from '../../bindings/bun/listen.ts';
import { AsyncLocalStorage, fileStream, tcpListenQueue } from '../../bindings/listen-shared.ts';
import type { ListenBinding } from '../server/listen.ts';
import { runtime } from './runtime.ts';

/** How this runtime shares listeners between workers. */
export function listenBinding(): ListenBinding {
  const name = runtime().name;
  return name === 'deno' ? denoListen : name === 'bun' ? bunListen : nodeListen;
}

export { AsyncLocalStorage, fileStream, tcpListenQueue };
