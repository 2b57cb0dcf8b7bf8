// Erlang term codec rows (issue 16): decode and encode of the message an
// `rpc:call` sends through rex (a $gen_call with a pid, a reference, atoms, 20
// binaries and 20 integers: 445 bytes), against erlang_js, the external term
// format package evaluated before writing ours (README, Erlang), measured in
// the same run. Same row shape as CASES in bench/cases.mjs.
import { Buffer } from 'node:buffer';

const ERLANG = new URL('../../dist/erlang.js', import.meta.url).href;
const library = () => import(ERLANG);

/** The bytes of the message, made by our encoder (the decode rows read the same bytes). */
async function message() {
  const { encodeTerm, Atom, Tuple, Pid, Reference } = await library();
  const node = Atom.of('js@127.0.0.1');
  const items = [...Array.from({ length: 20 }, (_, i) => new TextEncoder().encode(`item-${i}`)), ...Array.from({ length: 20 }, (_, i) => i * 1000)];
  const term = new Tuple(Atom.of('$gen_call'), new Tuple(new Pid(node, 1, 0, 7), new Reference(node, 7, [1, 2, 3])),
    new Tuple(Atom.of('call'), Atom.of('lists'), Atom.of('reverse'), [items], Atom.of('user')));
  const bytes = encodeTerm(term);
  if (bytes.length !== 445) throw new Error(`bench message is ${bytes.length} bytes`);
  return bytes;
}

/** erlang_js's synchronous path (an uncompressed term calls back at once). */
async function erlangJs() {
  const { Erlang } = (await import('erlang_js')).default;
  const decode = (buf) => { let out; let err; Erlang.binary_to_term(buf, (e, t) => { err = e; out = t; }); if (err) throw err; return out; };
  const encode = (t) => { let out; let err; Erlang.term_to_binary(t, (e, b) => { err = e; out = b; }); if (err) throw err; return out; };
  return { decode, encode };
}

export default [
  {
    suite: 'erlang',
    case: 'decode a 445-byte rpc:call message',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { decodeTerm } = await library();
        const bytes = await message();
        return () => decodeTerm(bytes);
      },
      erlang_js: async () => {
        const { decode } = await erlangJs();
        const buf = Buffer.from(await message());
        return () => decode(buf);
      },
    },
  },
  {
    suite: 'erlang',
    case: 'encode a 445-byte rpc:call message',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { decodeTerm, encodeTerm } = await library();
        const term = decodeTerm(await message());
        return () => encodeTerm(term);
      },
      erlang_js: async () => {
        const { decode, encode } = await erlangJs();
        const term = decode(Buffer.from(await message()));
        return () => encode(term);
      },
    },
  },
];
