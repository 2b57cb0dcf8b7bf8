/**
 * `uwsgi-wasm/erlang`: the Erlang external term format codec, the term
 * classes, and the distribution node for embedders and tests (start it in a
 * thread of your own with different EPMD or tick settings, look at its
 * connections). Apps use the `erlang_*` functions of the `uwsgi` module.
 * @module
 */
export {
  encodeTerm, encodeTerms, decodeTerm, decodeTermAt, formatTerm, formatAtom, VERSION_MAGIC, MAX_BIG_BYTES, type DecodeTermOptions,
} from '../erlang/codec.ts';
export {
  Atom, Tuple, ImproperList, ErlangFloat, BitBinary, Pid, Reference, Port, ErlangFun, MAX_ATOM_CHARS, type Term, type TermInput,
} from '../erlang/terms.ts';
export { ErlangRpcError } from '../erlang/errors.ts';
export { ErlangNode, MAX_FRAME_BYTES, DEFAULT_TICK_MS, type ErlangNodeOptions, type ErlangSender, type NameEndpoint, type RpcTable } from '../erlang/node.ts';
export { startErlangNode, stopErlangNode, erlangNodeOf, type ErlangNodeOverrides, type ErlangProcess } from '../erlang/bridge.ts';
export { EPMD_PORT, portPlease, names as epmdNames, type EpmdAddress, type NodePort } from '../erlang/epmd.ts';
export { OUR_FLAGS, MANDATORY_FLAGS, DFLAG, digest } from '../erlang/handshake.ts';
export type { ErlangConfig } from '../erlang/config.ts';
export type { ErlangNodeRef, ErlangCallOptions } from '../erlang/functions.ts';
