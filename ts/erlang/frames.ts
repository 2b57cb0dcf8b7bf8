/**
 * Length-prefixed frames over a stream: EPMD requests and the distribution
 * handshake use a 2-byte big-endian length, a connected distribution channel
 * a 4-byte one (0 is a tick). The reader copies each byte once, into a buffer
 * of the announced size, and refuses a frame over its limit before
 * allocating anything for it, so a connection holds at most one frame.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';

/** A frame with its length prefix (`size`: 2 or 4 bytes, big-endian). */
export function frame(size: 2 | 4, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(size + payload.length);
  const dv = new DataView(out.buffer);
  if (size === 2) dv.setUint16(0, payload.length); else dv.setUint32(0, payload.length);
  out.set(payload, size);
  return out;
}

/**
 * Cuts a byte stream into frames and hands each to `onFrame`, in order and
 * synchronously, so the handler may change {@link FrameReader.prefix} for the
 * bytes that follow (the handshake's last frame is followed by 4-byte frames).
 */
export class FrameReader {
  /** Bytes of the length prefix of the next frame: 2 during the handshake, 4 once connected. */
  prefix: 2 | 4;
  /** Largest payload accepted, in bytes. */
  readonly max: number;
  readonly #onFrame: (payload: Uint8Array) => void;
  readonly #head = new Uint8Array(4);
  #headFill = 0;
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  #stopped = false;

  constructor(prefix: 2 | 4, max: number, onFrame: (payload: Uint8Array) => void) {
    this.prefix = prefix;
    this.max = max;
    this.#onFrame = onFrame;
  }

  /** Stop: bytes pushed from now on are ignored (the connection is closing). */
  stop(): void { this.#stopped = true; }

  /** Bytes held for a frame not complete yet. */
  get pending(): number { return this.#headFill + this.#bodyFill; }

  /** Feed bytes; throws `ERR_PROTOCOL` for a frame over the limit (the stream cannot be resynchronised then). */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.#stopped) {
      if (this.#body === undefined) {
        const want = this.prefix - this.#headFill;
        const n = Math.min(want, chunk.length - i);
        this.#head.set(chunk.subarray(i, i + n), this.#headFill);
        this.#headFill += n;
        i += n;
        if (this.#headFill < this.prefix) return;
        const dv = new DataView(this.#head.buffer);
        const len = this.prefix === 2 ? dv.getUint16(0) : dv.getUint32(0);
        this.#headFill = 0;
        if (len > this.max) {
          this.#stopped = true;
          throw new UwsgiError('ERR_PROTOCOL', `a frame of ${len} bytes is over the ${this.max}-byte limit`);
        }
        if (len === 0) { this.#onFrame(new Uint8Array(0)); continue; }
        this.#body = new Uint8Array(len);
        this.#bodyFill = 0;
      }
      const body = this.#body;
      const n = Math.min(body.length - this.#bodyFill, chunk.length - i);
      body.set(chunk.subarray(i, i + n), this.#bodyFill);
      this.#bodyFill += n;
      i += n;
      if (this.#bodyFill === body.length) {
        this.#body = undefined;
        this.#bodyFill = 0;
        this.#onFrame(body);
      }
    }
  }
}
