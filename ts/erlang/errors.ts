/**
 * The error of a remote call that failed on the Erlang side.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import type { Term } from './terms.ts';

/**
 * `erlang_rpc` got `{badrpc, Reason}`: the function raised, does not exist,
 * or the remote node could not run it. `code` is `ERR_BADRPC`; `reason` is
 * the decoded `Reason` (`{'EXIT', {undef, ...}}`, `{'EXIT', {badarith, ...}}`...).
 */
export class ErlangRpcError extends UwsgiError {
  /** The `Reason` of `{badrpc, Reason}`. */
  readonly reason: Term;
  constructor(message: string, reason: Term) {
    super('ERR_BADRPC', message);
    this.name = 'ErlangRpcError';
    this.reason = reason;
  }
}
