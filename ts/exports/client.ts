/**
 * `uwsgi-wasm/client`: the client side of the uwsgi protocol (remote caches,
 * RPC, signals, spool requests, messages) and uWSGI's address forms, as the
 * module functions use them.
 * @module
 */
export {
  RemoteCacheClient, remoteCachesOf, isRemoteCache, MODIFIER, type RemoteCacheName, type CacheResult, type MessagePayload, type SpoolVars,
} from '../client/client.ts';
export { ClientApi, clientOf, type MultiMessageNode, RECV_MAX, FRAME_MAX } from '../client/connections.ts';
export { Connection, type NetAddress, parseAddress as parseClientAddress, MAX_REPLY_BYTES } from '../client/connection.ts';
