/**
 * UDP through `node:dgram` (Node's, and Deno's implementation of it: Deno's
 * own `Deno.listenDatagram` still needs --unstable-net). Bun has its own
 * (bindings/bun/net.ts).
 */
import * as dgram from 'node:dgram';
import type { UdpEndpoint } from '../../ts/platform/binding.ts';

/** Bind a UDP socket on `addr`; `onMessage` gets each datagram and a function that answers its sender. */
export function listenUdp(addr: { host: string; port: number }, onMessage: (data: Uint8Array, reply: (data: Uint8Array) => void) => void): Promise<UdpEndpoint> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(addr.host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.on('message', (msg, rinfo) => {
      onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), (data) => { s.send(data, rinfo.port, rinfo.address); });
    });
    s.bind(addr.port, addr.host, () => {
      s.off('error', reject);
      // A send error (the peer went away) must not take the process down.
      s.on('error', () => {});
      resolve({ port: s.address().port, close: () => new Promise<void>((r) => s.close(() => r())) });
    });
  });
}
