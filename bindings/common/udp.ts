/**
 * UDP through `node:dgram` (Node's, and Deno's implementation of it: Deno's
 * own `Deno.listenDatagram` still needs --unstable-net). Bun has its own for
 * `listenUdp` (bindings/bun/net.ts) but takes `openUdp` from here: its
 * `Bun.udpSocket` cannot share a port (no SO_REUSEADDR), which several nodes
 * of one multicast group on one host need, and Bun's `node:dgram` can.
 */
import * as dgram from 'node:dgram';
import type { UdpEndpoint, UdpOptions, UdpPeer, UdpSocket } from '../../ts/platform/binding.ts';

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

/** Open a UDP socket that sends anywhere and hears who sent each datagram (see RuntimeSockets.openUdp). */
export function openUdp(opts: UdpOptions, onMessage: (data: Uint8Array, from: UdpPeer) => void): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: opts.host.includes(':') ? 'udp6' : 'udp4', reuseAddr: opts.reuseAddr === true });
    s.once('error', reject);
    s.on('message', (msg, rinfo) => {
      // A copy: the runtime may reuse the buffer it received into.
      onMessage(new Uint8Array(msg), { address: rinfo.address, port: rinfo.port });
    });
    // A group member binds every interface (as uWSGI 1.x did): datagrams to the group address arrive there.
    s.bind(opts.port, opts.multicastGroup !== undefined ? '0.0.0.0' : opts.host, () => {
      try {
        if (opts.multicastGroup !== undefined) s.addMembership(opts.multicastGroup);
        s.setMulticastTTL(opts.multicastTtl ?? 1);
        s.setMulticastLoopback(opts.multicastLoopback ?? true);
        if (opts.broadcast) s.setBroadcast(true);
      } catch (e) {
        s.close();
        reject(e);
        return;
      }
      s.off('error', reject);
      // Errors are the senders' to see (send rejects); the socket itself must not take the process down.
      s.on('error', () => {});
      // Like the timers of a server loop: an open socket alone keeps nobody alive.
      s.unref();
      resolve({
        port: s.address().port,
        send: (data, host, port) => new Promise<void>((res, rej) => { s.send(data, port, host, (err) => (err ? rej(err) : res())); }),
        close: () => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } }),
      });
    });
  });
}
