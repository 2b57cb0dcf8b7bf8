/** Node sockets: node:dgram for UDP, node:net for TCP and UNIX stream sockets. */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { StreamConnection, StreamListener, UdpEndpoint } from '../../ts/platform/runtime.ts';
import type { SocketAddress } from '../../ts/protocol/address.ts';
import { ChunkQueue, prepareUnixPath, removeUnixPath } from '../shared.ts';

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

export function streamConnection(sock: net.Socket): StreamConnection {
  const q = new ChunkQueue();
  sock.on('data', (d: Buffer) => q.push(new Uint8Array(d.buffer, d.byteOffset, d.length)));
  sock.on('end', () => q.end());
  sock.on('close', () => q.end());
  sock.on('error', () => q.end());
  return {
    read: () => q.read(),
    write: (data) => new Promise((resolve, reject) => { sock.write(data, (e) => (e ? reject(e) : resolve())); }),
    close: () => { sock.end(); },
  };
}

export function listenStream(addr: SocketAddress, onConnection: (conn: StreamConnection) => void): Promise<StreamListener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => onConnection(streamConnection(sock)));
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : undefined,
        close: () => new Promise<void>((r) => server.close(() => { if (addr.path !== undefined) removeUnixPath(addr.path); r(); })),
      });
    };
    if (addr.path !== undefined) {
      try { prepareUnixPath(addr.path); } catch (e) { reject(e); return; }
      server.listen(addr.path, ready);
    } else server.listen(addr.port, addr.host, ready);
  });
}
