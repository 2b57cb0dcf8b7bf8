/**
 * Erlang terms as JavaScript values: the one mapping the codec, the node and
 * the `erlang_*` functions share, both ways.
 *
 * | Erlang | JavaScript (decoded) | also encoded from |
 * |---|---|---|
 * | atom | {@link Atom} (one object per name while in use, so `===` works) | |
 * | `true`, `false` | `true`, `false` | |
 * | integer | `number` when it is a safe integer, else `bigint` | `bigint` |
 * | float | `number`; {@link ErlangFloat} when its value is integral (`2.0`), so it stays a float when sent back | `number` that is not a safe integer |
 * | binary | `Uint8Array` | `string` (as UTF-8) |
 * | bitstring | {@link BitBinary} | |
 * | proper list, string (`"abc"` is a list) | `Term[]` | |
 * | improper list | {@link ImproperList} | |
 * | tuple | {@link Tuple} | |
 * | map | `Map<Term, Term>` | plain object (keys become atoms) |
 * | pid, reference, port | {@link Pid}, {@link Reference}, {@link Port} | |
 * | fun | {@link ErlangFun} (opaque, sent back as received) | |
 *
 * Pure data, no I/O: this file imports nothing of the engine.
 * @module
 */

// ---- atoms -------------------------------------------------------------------------------

/**
 * Live atoms by name. Weak, so names a peer sent once do not pin memory for
 * ever (Erlang's atom table never shrinks; ours must not grow without bound
 * on a peer's say-so), while every atom somebody still holds is the one
 * object for its name.
 */
const atoms = new Map<string, WeakRef<Atom>>();
const forget = new FinalizationRegistry<string>((name) => {
  // A newer object may have taken the name since this one was collected.
  if (atoms.get(name)?.deref() === undefined) atoms.delete(name);
});

/** Longest atom name Erlang accepts, in characters. */
export const MAX_ATOM_CHARS = 255;

/**
 * An Erlang atom. `Atom.of('ok')` always gives the same object for the same
 * name while it is referenced, so atoms compare with `===` and work as `Map`
 * keys. `true` and `false` are JavaScript booleans instead.
 */
export class Atom {
  /** The atom's text. */
  readonly name: string;
  private constructor(name: string) { this.name = name; }

  /** The atom named `name` (at most 255 characters; longer names fail when encoded). */
  static of(name: string): Atom {
    const known = atoms.get(name)?.deref();
    if (known) return known;
    const a = new Atom(name);
    atoms.set(name, new WeakRef(a));
    forget.register(a, name);
    return a;
  }

  /** The name, as Erlang prints it without quotes. */
  toString(): string { return this.name; }
}

// ---- compound terms ----------------------------------------------------------------------

/** An Erlang tuple: `new Tuple(Atom.of('ok'), 1)` is `{ok, 1}`. */
export class Tuple<T extends TermInput = TermInput> implements Iterable<T> {
  /** The elements, in order. */
  readonly elements: T[];
  // NoInfer: elements of different types make a Tuple<TermInput>, not an error about the first one's type.
  constructor(...elements: NoInfer<T>[]) { this.elements = elements; }
  /** A tuple of an array's elements (no copy: the tuple keeps the array). */
  static from<T extends TermInput>(elements: T[]): Tuple<T> {
    const t = new Tuple<T>();
    (t as { elements: T[] }).elements = elements;
    return t;
  }
  /** Its arity. */
  get length(): number { return this.elements.length; }
  /** Element `i` (0-based; negative counts from the end). */
  at(i: number): T | undefined { return this.elements.at(i); }
  [Symbol.iterator](): Iterator<T> { return this.elements[Symbol.iterator](); }
}

/** A list whose tail is not `[]`: `[1, 2 | tail]` is `new ImproperList([1, 2], tail)`. */
export class ImproperList<T extends TermInput = TermInput> {
  /** The elements before the tail (at least one). */
  readonly elements: T[];
  /** What the last cell points to instead of `[]`. */
  readonly tail: T;
  constructor(elements: NoInfer<T>[], tail: NoInfer<T>) { this.elements = elements; this.tail = tail; }
}

/**
 * A float whose value is integral: `new ErlangFloat(2)` is Erlang's `2.0`,
 * where a plain `2` is the integer 2. The decoder gives one for every such
 * float, so a term passed back unchanged keeps its floats (`2.0 =:= 2` is
 * false in Erlang). It converts to its number in arithmetic (`valueOf`).
 */
export class ErlangFloat {
  /** The value. */
  readonly value: number;
  constructor(value: number) { this.value = value; }
  /** The number, for arithmetic and comparisons (`f > 1`). */
  valueOf(): number { return this.value; }
  /** As Erlang prints it: `2.0`. */
  toString(): string { return Number.isInteger(this.value) ? `${this.value}.0` : String(this.value); }
}

/** A bitstring whose length is not a whole number of bytes (`<<1:3>>`). */
export class BitBinary {
  /** The bytes; the last one holds `bits` significant bits, high bits first. */
  readonly bytes: Uint8Array;
  /** Bits used in the last byte, 1..8. */
  readonly bits: number;
  constructor(bytes: Uint8Array, bits: number) { this.bytes = bytes; this.bits = bits; }
}

/** An Erlang process identifier. */
export class Pid {
  /** The node it lives on. */
  readonly node: Atom;
  /** Process number on that node. */
  readonly id: number;
  /** Serial, for numbers reused by the node. */
  readonly serial: number;
  /** The node's incarnation (changes when it restarts). */
  readonly creation: number;
  constructor(node: Atom, id: number, serial: number, creation: number) {
    this.node = node; this.id = id; this.serial = serial; this.creation = creation;
  }
  /** Same process (node, numbers and creation). */
  equals(o: unknown): boolean {
    return o instanceof Pid && o.node === this.node && o.id === this.id && o.serial === this.serial && o.creation === this.creation;
  }
}

/** An Erlang reference (`make_ref()`). */
export class Reference {
  /** The node that made it. */
  readonly node: Atom;
  /** The node's incarnation. */
  readonly creation: number;
  /** Its 32-bit words (1 to 5). */
  readonly ids: readonly number[];
  constructor(node: Atom, creation: number, ids: readonly number[]) {
    this.node = node; this.creation = creation; this.ids = ids;
  }
  /** Same reference. */
  equals(o: unknown): boolean {
    return o instanceof Reference && o.node === this.node && o.creation === this.creation && o.ids.length === this.ids.length && o.ids.every((v, i) => v === this.ids[i]);
  }
}

/** An Erlang port identifier. */
export class Port {
  /** The node it lives on. */
  readonly node: Atom;
  /** Port number (64 bits since OTP 24). */
  readonly id: bigint;
  /** The node's incarnation. */
  readonly creation: number;
  constructor(node: Atom, id: bigint, creation: number) {
    this.node = node; this.id = id; this.creation = creation;
  }
  /** Same port. */
  equals(o: unknown): boolean {
    return o instanceof Port && o.node === this.node && o.id === this.id && o.creation === this.creation;
  }
}

/**
 * A fun, kept as the bytes it arrived in (without the 131 version byte) and
 * sent back unchanged: JavaScript cannot run it. An external fun
 * (`fun lists:reverse/1`) also says which function it names.
 */
export class ErlangFun {
  /** Its external-format bytes, tag first. */
  readonly bytes: Uint8Array;
  /** For `fun M:F/A`: the module, function and arity; undefined for a closure. */
  readonly export?: { readonly module: Atom; readonly function: Atom; readonly arity: number };
  constructor(bytes: Uint8Array, exported?: { module: Atom; function: Atom; arity: number }) {
    this.bytes = bytes;
    if (exported) this.export = exported;
  }
}

/** An Erlang term as the codec decodes it (see the table in this module's documentation). */
export type Term =
  | number | bigint | boolean | Uint8Array | Atom | Tuple<Term> | Term[] | ImproperList<Term> | Map<Term, Term>
  | ErlangFloat | Pid | Reference | Port | BitBinary | ErlangFun;

/**
 * What the codec encodes: every {@link Term}, plus `string` (a UTF-8 binary)
 * and plain objects (maps with atom keys), which come back as `Uint8Array`
 * and `Map`.
 */
export type TermInput =
  | Term | string | TermInput[] | Tuple<TermInput> | ImproperList<TermInput> | Map<TermInput, TermInput>
  | { readonly [key: string]: TermInput };
