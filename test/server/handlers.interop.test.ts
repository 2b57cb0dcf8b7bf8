/**
 * A real Python 3 client against our `--socket` listener: modifier-33 packets
 * carrying `marshal.dumps` values, answered by `uwsgi.message_manager_marshal`
 * and read back with `marshal.loads`; a modifier-26 fastfunc call from the
 * same client. (uWSGI 2.0 itself dropped both handlers, so the peer is the
 * Python side of the format, not a uWSGI server.)
 */
import { createEngine, serve } from 'uwsgi-wasm';
import { spawn } from 'node:child_process';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { freePort, needs } from '../lib/interop.ts';

const CLIENT = `
import json, marshal, socket, struct, sys
port = int(sys.argv[1])
def packet(m1, m2, body):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(struct.pack('<BHB', m1, len(body), m2) + body)
    out = b''
    while True:
        c = s.recv(65536)
        if not c: break
        out += c
    s.close()
    return out
r = packet(33, 9, marshal.dumps({'op': 'sum', 'args': (1, 2, 2**70), 'tag': b'\\x00\\xff', 'set': {3}}))
m1, size, m2 = struct.unpack('<BHB', r[:4])
v = marshal.loads(r[4:])
print(json.dumps({'header': [m1, size, m2], 'len': len(r) - 4, 'value': repr(v)}))
print(json.dumps({'fast': packet(26, 10, b'from python').decode()}))
`;

describe('interop: a Python 3 client', () => {
  test('marshalled messages (33) and a fastfunc (26) over the wire', async ({ skip }) => {
    const missing = needs('python3');
    if (missing) skip(missing);
    const w = createEngine({}).attach('worker', 1);
    w.message_manager_marshal = (msg, m2) => {
      const m = msg as { op: string; args: Array<number | bigint>; tag: Uint8Array; set: Set<number> };
      const total = m.args.reduce<bigint>((a, x) => a + BigInt(x), 0n);
      return { op: m.op, m2, total, tag: m.tag, set: [...m.set], none: null, pi: 3.25 };
    };
    w.fastfuncs[10] = (body) => `fast:${new TextDecoder().decode(body)}`;
    const port = await freePort();
    const server = await serve(w, { options: { socket: `127.0.0.1:${port}` } });
    try {
      // The client is another process; this thread's event loop serves it meanwhile (so no spawnSync).
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn('python3', ['-c', CLIENT, String(port)]);
        let o = '', e = '';
        p.stdout.on('data', (d) => { o += d; });
        p.stderr.on('data', (d) => { e += d; });
        p.on('close', (code) => (code === 0 ? resolve(o) : reject(new Error(`python3 exited ${code}: ${e}`))));
      });
      const [first, second] = out.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(first.header, [33, first.len, 9], 'the reply header: modifier1 33, its size, the same modifier2');
      assert.equal(first.value, `{'op': 'sum', 'm2': 9, 'total': ${2n ** 70n + 3n}, 'tag': b'\\x00\\xff', 'set': [3], 'none': None, 'pi': 3.25}`);
      assert.equal(second.fast, 'fast:from python');
    } finally {
      await server.close();
    }
  });
});
