// How store records look inside MongoDB, and back. Kept to what runs unchanged on MongoDB 7 and
// FerretDB 1.24 (docs/storage.md): no NaN/Infinity doubles, no field names with '.' or a leading '$',
// no nested arrays, no Decimal128.
//
// Decisions:
// - Rollups are stored as one BSON Binary of little-endian float64s: t[0..n), a[0..n), g[0..n).
//   Exact for every double (NaN = "no margin" included, which FerretDB rejects as a BSON double),
//   24 bytes per order (a BSON array spends ~16 bytes per number on keys and type bytes), and
//   decoded with one typed-array copy instead of per-element BSON parsing. A document holds up to
//   ~690,000 orders of one customer within the 16 MiB limit.
// - Customer attributes (user-given keys such as "a.b", "$x", "__proto__") are stored as an
//   array of {k, v} pairs: any key round-trips, key order is kept, and an attribute can still be
//   queried with {attributes: {$elemMatch: {k: 'industry', v: '制造'}}}.
// - TierState, stateBeforeRun, the approved score, the org and policies are stored as JSON text:
//   their keys come from code, the policy or the admin (dimension keys, detector detail keys,
//   playbook headings), JSON has no key restrictions, and the shapes are only ever read whole.
//   JSON semantics apply: undefined fields are dropped, non-finite numbers become null.
//   Everything a query needs is copied into flat fields (tier, risk, stateRunId, ...).
// - Population statistics are float64 Binaries as well, split into chunk documents.
import { Binary } from 'mongodb';
import type { Rollup } from '../../domain/types.ts';
import type { AttributeValue } from '../../ports/store.ts';

export interface AttributePair {
  k: string;
  v: AttributeValue;
}

export function encodeAttributes(attrs: Record<string, AttributeValue> | undefined): AttributePair[] {
  if (!attrs) return [];
  return Object.keys(attrs).map((k) => ({ k, v: attrs[k] }));
}

export function decodeAttributes(pairs: AttributePair[] | undefined | null): Record<string, AttributeValue> {
  if (!Array.isArray(pairs)) return {};
  // Object.fromEntries defines own properties: "__proto__" stays a plain key
  return Object.fromEntries(pairs.map((p) => [p.k, p.v ?? null]));
}

/** float64 values, little-endian, as a BSON Binary */
export function encodeFloat64(values: ArrayLike<number>): Binary {
  const f = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) f[i] = values[i];
  return new Binary(toLittleEndianBytes(f));
}

export function decodeFloat64(b: Binary | null | undefined): Float64Array {
  if (!b) return new Float64Array(0);
  const bytes = b.value();
  const n = bytes.byteLength >>> 3;
  const out = new Float64Array(n);
  // copy into an aligned buffer first (the Binary may sit at any offset inside the reply)
  new Uint8Array(out.buffer).set(bytes.subarray(0, n * 8));
  if (!LITTLE_ENDIAN) swap64(out);
  return out;
}

export function encodeRollup(r: Rollup): Binary {
  const n = r.t.length;
  const f = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    f[i] = r.t[i];
    f[n + i] = r.a[i];
    f[2 * n + i] = r.g[i];
  }
  return new Binary(toLittleEndianBytes(f));
}

export function decodeRollup(b: Binary | null | undefined): Rollup {
  const f = decodeFloat64(b);
  const n = Math.floor(f.length / 3);
  const t: number[] = [];
  const a: number[] = [];
  const g: number[] = [];
  for (let i = 0; i < n; i++) {
    t.push(f[i]);
    a.push(f[n + i]);
    g.push(f[2 * n + i]);
  }
  // exact-size copies (push leaves spare capacity)
  return { t: t.slice(), a: a.slice(), g: g.slice() };
}

export function toJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

export function fromJson<T>(text: unknown): T | null {
  return typeof text === 'string' ? (JSON.parse(text) as T) : null;
}

/** Escapes a string for use as a literal inside a regular expression (PCRE and RE2). */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swap64(f: Float64Array): void {
  const b = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  for (let i = 0; i < b.length; i += 8) {
    for (let j = 0; j < 4; j++) {
      const x = b[i + j];
      b[i + j] = b[i + 7 - j];
      b[i + 7 - j] = x;
    }
  }
}

function toLittleEndianBytes(f: Float64Array): Uint8Array {
  if (!LITTLE_ENDIAN) swap64(f);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}
