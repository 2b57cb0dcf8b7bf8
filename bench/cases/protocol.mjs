// Codec rows (issue 6): encode and decode of a 20-var, 746-byte uwsgi packet (an
// nginx request's vars) against a straightforward Node `Buffer` implementation,
// measured in the same run. Same row shape as CASES in bench/cases.mjs.
import { Buffer } from 'node:buffer';

// The codec is the package's `uwsgi-wasm/codec` entry.
const CODEC = new URL('../../dist/codec.js', import.meta.url).href;
const library = () => import(CODEC);

/** nginx's uwsgi_params for a POST, padded to 20 vars and a 746-byte packet (header included). */
function requestVars() {
  const vars = [
    ['QUERY_STRING', 'page=2&sort=name&filter=active'], ['REQUEST_METHOD', 'POST'], ['CONTENT_TYPE', 'application/x-www-form-urlencoded'],
    ['CONTENT_LENGTH', '20'], ['REQUEST_URI', '/app/items/list?page=2&sort=name&filter=active'], ['PATH_INFO', '/app/items/list'],
    ['DOCUMENT_ROOT', '/var/www/html'], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REQUEST_SCHEME', 'http'], ['REMOTE_ADDR', '127.0.0.1'],
    ['REMOTE_PORT', '43792'], ['SERVER_PORT', '8080'], ['SERVER_NAME', 'localhost'], ['HTTP_HOST', 'localhost:8080'],
    ['HTTP_USER_AGENT', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'],
    ['HTTP_ACCEPT', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'], ['HTTP_ACCEPT_ENCODING', 'gzip, deflate, br'],
    ['HTTP_ACCEPT_LANGUAGE', 'en-US,en;q=0.9'], ['HTTP_CONNECTION', 'keep-alive'], ['HTTP_COOKIE', ''],
  ];
  const size = () => 4 + vars.reduce((n, [k, v]) => n + 4 + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  vars[19][1] = 's'.repeat(746 - size());
  if (size() !== 746 || vars.length !== 20) throw new Error(`bench packet is ${size()} bytes, ${vars.length} vars`);
  return vars;
}

/** The straightforward Buffer codec a Node developer would write. */
function bufferEncode(m1, m2, vars) {
  let n = 0;
  for (const [k, v] of vars) n += 4 + Buffer.byteLength(k) + Buffer.byteLength(v);
  const b = Buffer.allocUnsafe(4 + n);
  b.writeUInt8(m1, 0);
  b.writeUInt16LE(n, 1);
  b.writeUInt8(m2, 3);
  let at = 4;
  for (const [k, v] of vars) {
    const kl = b.write(k, at + 2);
    b.writeUInt16LE(kl, at);
    at += 2 + kl;
    const vl = b.write(v, at + 2);
    b.writeUInt16LE(vl, at);
    at += 2 + vl;
  }
  return b;
}

function bufferDecode(pkt) {
  const b = Buffer.isBuffer(pkt) ? pkt : Buffer.from(pkt.buffer, pkt.byteOffset, pkt.length);
  const size = b.readUInt16LE(1);
  if (b.length < 4 + size) throw new Error('truncated');
  const out = {};
  let i = 4;
  const end = 4 + size;
  while (i < end) {
    const kl = b.readUInt16LE(i); i += 2;
    if (i + kl > end) throw new Error('truncated');
    const k = b.toString('utf8', i, i + kl); i += kl;
    const vl = b.readUInt16LE(i); i += 2;
    if (i + vl > end) throw new Error('truncated');
    out[k] = b.toString('utf8', i, i + vl); i += vl;
  }
  return out;
}

export default [
  {
    suite: 'protocol',
    case: 'decode 20-var 746-byte packet',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { encodeVarsPacket, decodePacket, decodeVars } = await library();
        const pkt = encodeVarsPacket(0, 0, requestVars());
        return () => decodeVars(decodePacket(pkt).body);
      },
      'node-buffer': async () => {
        const pkt = bufferEncode(0, 0, requestVars());
        return () => bufferDecode(pkt);
      },
    },
  },
  {
    suite: 'protocol',
    case: 'encode 20-var 746-byte packet',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { encodeVarsPacket } = await library();
        const vars = requestVars();
        return () => encodeVarsPacket(0, 0, vars);
      },
      'node-buffer': async () => {
        const vars = requestVars();
        return () => bufferEncode(0, 0, vars);
      },
    },
  },
  {
    suite: 'protocol',
    case: 'stream 746-byte packet in 3 chunks (PacketReader)',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { encodeVarsPacket, PacketReader } = await library();
        const pkt = encodeVarsPacket(0, 0, requestVars());
        const parts = [pkt.subarray(0, 2), pkt.subarray(2, 300), pkt.subarray(300)];
        const r = new PacketReader();
        return () => { r.reset(); for (const p of parts) r.push(p); return r.packet(); };
      },
      'node-buffer': async () => {
        const pkt = bufferEncode(0, 0, requestVars());
        const parts = [pkt.subarray(0, 2), pkt.subarray(2, 300), pkt.subarray(300)];
        return () => {
          let acc = Buffer.alloc(0);
          for (const p of parts) acc = Buffer.concat([acc, p]);
          const size = acc.readUInt16LE(1);
          return acc.subarray(4, 4 + size);
        };
      },
    },
  },
];
