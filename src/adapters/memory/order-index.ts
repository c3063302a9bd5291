// A compact in-memory index of orders: orderId -> (customer, t, amount, margin, cancelled).
//
// Why not a Map<string, tuple>: at 20,000,000 orders a Map costs ~150 bytes per order (entry, key
// string, tuple array, boxed doubles) and V8 caps a Map at 2^24 (16.7M) entries anyway.
// Here everything lives in typed arrays, outside the V8 heap:
//   - order ids are UTF-8 bytes (length-prefixed) in 1 MiB arena chunks, plus a u32 offset per order;
//   - one 24-byte row per order in 64K-row chunks (one cache line to read an order): t (f64),
//     amount and margin (i32, with a sentinel for "no margin" and a side map for values outside
//     the int32 range), customer index (i32, bitwise NOT when cancelled) and `next` (i32): the
//     next order of the same customer, so the store can keep one linked list per customer;
//   - an open-addressing hash table (linear probing) of (slot+1, hash) pairs.
// About 41 bytes per order plus the id's UTF-8 length (e.g. ~54 bytes for 12-character ids).
// Orders are never deleted (a cancelled order is kept), so slots are stable.

const ROW_BITS = 16;
const ROWS = 1 << ROW_BITS;
const ROW_MASK = ROWS - 1;
const ARENA_BITS = 20;
const ARENA_SIZE = 1 << ARENA_BITS;
const ARENA_MASK = ARENA_SIZE - 1;
const MAX_ARENA_CHUNKS = 4096; // offsets are u32: 4 GiB of ids

const INT_NAN = -2147483648; // margin: none
const INT_BIG = -2147483647; // value kept in the side map

export class OrderIndex {
  private table: Int32Array;
  private mask: number;
  private count = 0;

  private offCol: Uint32Array[] = [];
  /** the same row chunks seen as f64 (t at r*3) and as i32 (a r*6+2, g r*6+3, customer r*6+4, next r*6+5) */
  private rowF: Float64Array[] = [];
  private rowI: Int32Array[] = [];
  private big = new Map<number, number>(); // (slot * 2 + column) -> value

  private arena: Uint8Array[] = [];
  private arenaPos = ARENA_SIZE; // forces a first chunk

  private scratch = new Uint8Array(256);
  private scratchLen = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap * 0.75 < initialCapacity) cap *= 2;
    this.table = new Int32Array(cap * 2);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** bytes held in typed arrays (ids, columns, table) */
  get bytes(): number {
    return (
      this.table.byteLength +
      this.offCol.length * ROWS * (4 + 24) +
      this.arena.length * ARENA_SIZE +
      this.big.size * 40
    );
  }

  /** slot of the order, or -1 */
  find(orderId: string): number {
    const h = this.encode(orderId);
    const table = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = table[i * 2];
      if (s === 0) return -1;
      if (table[i * 2 + 1] === h && this.equalsScratch(s - 1)) return s - 1;
    }
  }

  /** Adds an order that is not in the index (check with find first) and returns its slot; next = -1. */
  add(orderId: string, customer: number, t: number, a: number, g: number, cancelled: boolean): number {
    if ((this.count + 1) > (this.mask + 1) * 0.75) this.grow();
    const h = this.encode(orderId);
    const slot = this.count;
    if ((slot & ROW_MASK) === 0) this.addRows();
    const off = this.storeScratch();
    this.offCol[slot >>> ROW_BITS][slot & ROW_MASK] = off;
    this.count++;
    this.set(slot, customer, t, a, g, cancelled);
    this.setNext(slot, -1);
    const table = this.table;
    const mask = this.mask;
    let i = h & mask;
    while (table[i * 2] !== 0) i = (i + 1) & mask;
    table[i * 2] = slot + 1;
    table[i * 2 + 1] = h;
    return slot;
  }

  set(slot: number, customer: number, t: number, a: number, g: number, cancelled: boolean): void {
    const r = slot >>> ROW_BITS;
    const j = slot & ROW_MASK;
    this.rowF[r][j * 3] = t;
    const ri = this.rowI[r];
    ri[j * 6 + 2] = this.packInt(slot * 2, a);
    ri[j * 6 + 3] = this.packInt(slot * 2 + 1, g);
    ri[j * 6 + 4] = cancelled ? ~customer : customer;
  }

  customer(slot: number): number {
    const c = this.rowI[slot >>> ROW_BITS][(slot & ROW_MASK) * 6 + 4];
    return c < 0 ? ~c : c;
  }

  cancelled(slot: number): boolean {
    return this.rowI[slot >>> ROW_BITS][(slot & ROW_MASK) * 6 + 4] < 0;
  }

  t(slot: number): number {
    return this.rowF[slot >>> ROW_BITS][(slot & ROW_MASK) * 3];
  }

  a(slot: number): number {
    const p = this.rowI[slot >>> ROW_BITS][(slot & ROW_MASK) * 6 + 2];
    return p > INT_BIG ? p : this.unpackInt(slot * 2, p);
  }

  g(slot: number): number {
    const p = this.rowI[slot >>> ROW_BITS][(slot & ROW_MASK) * 6 + 3];
    return p > INT_BIG ? p : this.unpackInt(slot * 2 + 1, p);
  }

  /** next order of the same customer list, or -1 */
  next(slot: number): number {
    return this.rowI[slot >>> ROW_BITS][(slot & ROW_MASK) * 6 + 5];
  }

  setNext(slot: number, next: number): void {
    this.rowI[slot >>> ROW_BITS][(slot & ROW_MASK) * 6 + 5] = next;
  }

  // --- internals ---------------------------------------------------------------------------

  private packInt(key: number, v: number): number {
    if (v !== v) {
      this.big.delete(key);
      return INT_NAN;
    }
    if ((v | 0) === v && v > INT_BIG && !Object.is(v, -0)) {
      this.big.delete(key);
      return v;
    }
    this.big.set(key, v);
    return INT_BIG;
  }

  private unpackInt(key: number, p: number): number {
    if (p === INT_NAN) return NaN;
    if (p === INT_BIG) return this.big.get(key)!;
    return p;
  }

  private addRows(): void {
    this.offCol.push(new Uint32Array(ROWS));
    const rows = new ArrayBuffer(ROWS * 24);
    this.rowF.push(new Float64Array(rows));
    this.rowI.push(new Int32Array(rows));
  }

  private grow(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    const table = new Int32Array(cap * 2);
    const mask = cap - 1;
    for (let i = 0; i < old.length; i += 2) {
      const s = old[i];
      if (s === 0) continue;
      const h = old[i + 1];
      let j = h & mask;
      while (table[j * 2] !== 0) j = (j + 1) & mask;
      table[j * 2] = s;
      table[j * 2 + 1] = h;
    }
    this.table = table;
    this.mask = mask;
  }

  /** Writes the UTF-8 bytes (lone surrogates as 3-byte sequences) into scratch; returns the hash. */
  private encode(s: string): number {
    const len = s.length;
    if (this.scratch.length < len * 3 + 8) this.scratch = new Uint8Array(len * 3 + 64);
    const b = this.scratch;
    let n = 0;
    let h = 0x811c9dc5;
    for (let i = 0; i < len; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        b[n++] = c;
        h = Math.imul(h ^ c, 0x01000193);
        continue;
      }
      const start = n;
      if (c < 0x800) {
        b[n++] = 0xc0 | (c >> 6);
        b[n++] = 0x80 | (c & 0x3f);
      } else if ((c & 0xfc00) === 0xd800 && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        b[n++] = 0xf0 | (c >> 18);
        b[n++] = 0x80 | ((c >> 12) & 0x3f);
        b[n++] = 0x80 | ((c >> 6) & 0x3f);
        b[n++] = 0x80 | (c & 0x3f);
      } else {
        b[n++] = 0xe0 | (c >> 12);
        b[n++] = 0x80 | ((c >> 6) & 0x3f);
        b[n++] = 0x80 | (c & 0x3f);
      }
      for (let j = start; j < n; j++) h = Math.imul(h ^ b[j], 0x01000193);
    }
    this.scratchLen = n;
    // final avalanche (murmur3 fmix32) so the low bits used for the table are well mixed
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h | 0;
  }

  private equalsScratch(slot: number): boolean {
    const off = this.offCol[slot >>> ROW_BITS][slot & ROW_MASK];
    const chunk = this.arena[off >>> ARENA_BITS];
    let p = off & ARENA_MASK;
    // varint length
    let len = 0;
    let shift = 0;
    for (;;) {
      const byte = chunk[p++];
      len |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    const n = this.scratchLen;
    if (len !== n) return false;
    const b = this.scratch;
    for (let i = 0; i < n; i++) if (chunk[p + i] !== b[i]) return false;
    return true;
  }

  /** Copies the scratch bytes (length-prefixed) into the arena; returns the u32 offset. */
  private storeScratch(): number {
    const n = this.scratchLen;
    const need = n + 5;
    if (need > ARENA_SIZE) throw new RangeError(`order id too long (${n} bytes in UTF-8)`);
    if (this.arenaPos + need > ARENA_SIZE) {
      if (this.arena.length >= MAX_ARENA_CHUNKS) throw new RangeError('order index is full (4 GiB of order ids)');
      this.arena.push(new Uint8Array(ARENA_SIZE));
      this.arenaPos = 0;
    }
    const chunkIndex = this.arena.length - 1;
    const chunk = this.arena[chunkIndex];
    const start = this.arenaPos;
    let p = start;
    let len = n;
    while (len >= 0x80) {
      chunk[p++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    chunk[p++] = len;
    chunk.set(this.scratch.subarray(0, n), p);
    this.arenaPos = p + n;
    return chunkIndex * ARENA_SIZE + start;
  }
}
