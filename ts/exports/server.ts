/**
 * `uwsgi-wasm/server`: the listeners' building blocks: a worker's server, the
 * management packets it answers, its hooks and its configuration.
 * @module
 */
export {
  WorkerServer, setServerHooks, serverHooks, processAccounting, type App, type FetchHandler, type RequestContext, type ServedRequest,
  type RequestAccounting, type RequestTicket, type ServerHooks, type WorkerServerOptions,
} from '../server/server.ts';
export { serve, type ServeOptions } from '../server/serve.ts';
export { isLocalPeer } from '../server/context.ts';
export { type PacketHooks, type PacketIO, servePacket } from '../server/packets.ts';
export { type ListenConfig, type ListenerSpec, type ListenTicket, listenConfig } from '../server/listen.ts';
export { parseAddress, formatAddress, LISTEN_RULES, SERVICE_RULES, CONNECT_RULES, type AddressRules, type SocketAddress } from '../protocol/address.ts';
export {
  handlersOf, serveFastfunc, serveMarshal, MOD_FASTFUNC, MOD_MARSHAL, FASTFUNC_SLOTS, type Fastfunc, type FastfuncResult, type MarshalHandler,
} from '../server/handlers.ts';
