/**
 * `uwsgi-wasm/codec`: the uwsgi packet codec, for code that speaks the
 * protocol directly (headers, vars blocks, arrays, a streaming reader).
 * @module
 */
export {
  HEADER_SIZE, DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE, type ByteString, type PacketHeader, type Packet, type DecodeOptions,
  type DecodeArrayOptions, type EncodeOptions, type VarsInput, encodePacket, decodeHeader, decodePacket, encodeVars,
  encodeVarsPacket, decodeVars, decodeVarsList, encodeArray, encodeArrayPacket, decodeArray, PacketReader, parsefile,
  bytesToText,
} from '../protocol/codec.ts';
/** Python's marshal format, the body of modifier-33 packets (`message_manager_marshal`). */
export { marshalDumps, marshalLoads } from '../protocol/marshal.ts';
