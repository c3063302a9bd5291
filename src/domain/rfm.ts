// RFM scoring (thresholds and quintiles) and the population statistics of a run.
import type { CompiledPolicy } from './compile.ts';
import { ModelSample, type ModelSampleData } from './bgnbd.ts';
import type { PopulationStats } from './types.ts';
import { round2 } from './value-score.ts';

/** Frequency/monetary: x ≥ b4 → 5, ≥ b3 → 4, ≥ b2 → 3, ≥ b1 → 2, else 1. */
export function scoreHigherBetter(x: number, b: readonly number[]): number {
  return x >= b[3] ? 5 : x >= b[2] ? 4 : x >= b[1] ? 3 : x >= b[0] ? 2 : 1;
}

/** Recency: x ≤ b1 → 5, ≤ b2 → 4, ≤ b3 → 3, ≤ b4 → 2, else 1. */
export function scoreLowerBetter(x: number, b: readonly number[]): number {
  return x <= b[0] ? 5 : x <= b[1] ? 4 : x <= b[2] ? 3 : x <= b[3] ? 2 : 1;
}

// Quintiles: score = min(5, 1 + floor(5·worse/n)) ≥ s  ⇔  worse ≥ ceil((s−1)·n/5) =: k_s.
// For "higher is better", worse = #{v < x}, and #{v < x} ≥ k ⇔ x > (k-th smallest value), so cut[s−2] is the
// k_s-th smallest and the score is 1 + the number of cuts x beats. Recency mirrors it with the k_s-th largest.

/** Quintile score when higher is better (frequency, monetary). */
export function quintileHigherBetter(x: number, cuts: readonly number[]): number {
  let s = 1;
  for (let i = 0; i < cuts.length; i++) if (x > cuts[i]) s++;
  return s;
}

/** Quintile score when lower is better (recency). */
export function quintileLowerBetter(x: number, cuts: readonly number[]): number {
  let s = 1;
  for (let i = 0; i < cuts.length; i++) if (x < cuts[i]) s++;
  return s;
}

// A binary search over the population's monetary values misses the cache at nearly every step. Instead a
// table indexed by the leading bits of the double (exponent + 11 mantissa bits: 2048 buckets per power of two,
// monotone for positive numbers) says where each bucket's values start in monetaryDesc, so a lookup reads one
// table entry and, unless rounding makes it unnecessary, a short run of adjacent values.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
function keyOf(x: number, shift: number): number {
  f64[0] = x;
  return u32[HIGH_WORD] >>> shift;
}

interface RankIndex {
  desc: Float64Array;
  /** how many values are > 0 */
  positives: number;
  shift: number;
  minKey: number;
  /** above[k − minKey] = how many values have a key > k */
  above: Int32Array;
}
// built once per population (several may be in use, e.g. a simulation next to a recompute)
const indexes = new WeakMap<Float64Array, RankIndex>();
let last: RankIndex | null = null;

function rankIndex(desc: Float64Array): RankIndex {
  if (last !== null && last.desc === desc) return last;
  last = indexes.get(desc) ?? buildIndex(desc);
  return last;
}

function buildIndex(desc: Float64Array): RankIndex {
  const positives = searchGreater(desc, 0, 0, desc.length);
  let shift = 9;
  let minKey = 0;
  let above = new Int32Array(0);
  if (positives > 0) {
    // coarser buckets only for absurd value ranges, to bound the table
    while (keyOf(desc[0], shift) - keyOf(desc[positives - 1], shift) > 1 << 18) shift++;
    const maxKey = keyOf(desc[0], shift);
    minKey = keyOf(desc[positives - 1], shift);
    above = new Int32Array(maxKey - minKey + 1);
    let i = 0;
    for (let k = maxKey; k >= minKey; k--) {
      above[k - minKey] = i;
      while (i < positives && keyOf(desc[i], shift) === k) i++;
    }
  }
  const ix = { desc, positives, shift, minKey, above };
  indexes.set(desc, ix);
  return ix;
}

/** How many of desc[from, to) are > x (desc sorted descending). */
function searchGreater(desc: Float64Array, x: number, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (desc[mid] > x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `100·rank/N` rounded to 2 decimals, rank 1 = largest monetary, ties share the best rank;
 * null when the run evaluated nobody.
 */
export function monetaryTopPct(monetary: number, stats: PopulationStats): number | null {
  const n = stats.n;
  if (n === 0) return null;
  const desc = stats.monetaryDesc;
  const ix = rankIndex(desc);
  // how many values are larger than `monetary`: somewhere in [from, to]
  let from: number;
  let to: number;
  if (!(monetary > 0)) {
    from = to = monetary === 0 ? ix.positives : searchGreater(desc, monetary, ix.positives, desc.length);
  } else if (monetary >= desc[0]) {
    from = to = 0;
  } else {
    const k = keyOf(monetary, ix.shift) - ix.minKey;
    if (k < 0) {
      from = to = ix.positives;
    } else {
      // values with the same key occupy desc[above[k], above[k − 1])
      from = ix.above[k];
      to = k === 0 ? ix.positives : ix.above[k - 1];
    }
  }
  const pct = round2((100 * (from + 1)) / n);
  // the bucket's values are read only when its possible ranks round to different percentages
  if (from === to || round2((100 * (to + 1)) / n) === pct) return pct;
  let i = from;
  if (to - from > 16) i = searchGreater(desc, monetary, from, to);
  else while (i < to && desc[i] > monetary) i++;
  return round2((100 * (i + 1)) / n);
}

class GrowableF64 {
  buf = new Float64Array(1024);
  n = 0;
  push(x: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = x;
  }
  values(): Float64Array<ArrayBuffer> {
    return this.buf.slice(0, this.n);
  }
}

/** What a run's population statistics are made of, unsorted, in arrays that can move to another thread. */
export interface PopulationData {
  monetary: Float64Array<ArrayBuffer>;
  /** recency, frequency and monetary of the customers with a recency (quintile RFM only) */
  quintiles: { r: Float64Array<ArrayBuffer>; f: Float64Array<ArrayBuffer>; m: Float64Array<ArrayBuffer> } | null;
  sample: ModelSampleData;
}

/** The statistics of pass 1: the sorts, the quintile cut-offs and the models' fit (sorts the arrays in place). */
export function populationStats(d: PopulationData): PopulationStats {
  const monetaryDesc = d.monetary.sort().reverse();
  const models = ModelSample.from(d.sample).fit();
  if (d.quintiles === null) return { n: monetaryDesc.length, monetaryDesc, quintiles: null, models };
  const n = d.quintiles.r.length;
  const r = d.quintiles.r.sort();
  const f = d.quintiles.f.sort();
  const m = d.quintiles.m.sort();
  const recency: number[] = [];
  const frequency: number[] = [];
  const monetary: number[] = [];
  if (n > 0) {
    for (let s = 2; s <= 5; s++) {
      const k = Math.ceil(((s - 1) * n) / 5);
      recency.push(r[n - k]); // k-th largest
      frequency.push(f[k - 1]); // k-th smallest
      monetary.push(m[k - 1]);
    }
  }
  return { n: monetaryDesc.length, monetaryDesc, quintiles: { n, recency, frequency, monetary }, models };
}

/** Collects pass-1 base metrics of every customer of a run into typed arrays. */
export class PopulationBuilder {
  private readonly quintiles: boolean;
  private readonly monetary = new GrowableF64();
  // customers with a non-null recencyDays only (quintiles)
  private readonly qr = new GrowableF64();
  private readonly qf = new GrowableF64();
  private readonly qm = new GrowableF64();
  private readonly models = new ModelSample();

  constructor(policy: CompiledPolicy) {
    this.quintiles = policy.rfm.method === 'quintiles';
  }

  /** one customer's pass-1 values (see baseMetrics) */
  add(recencyDays: number | null, frequency: number, monetary: number): void {
    this.monetary.push(monetary);
    if (this.quintiles && recencyDays !== null) {
      this.qr.push(recencyDays);
      this.qf.push(frequency);
      this.qm.push(monetary);
    }
  }

  /** one customer's repeat-purchase summary (see repeatCounts in metrics.ts), for the customer-base models */
  addRepeat(x: number, tx: number, T: number, repeatFen: number): void {
    this.models.add(x, tx, T, repeatFen);
  }

  get size(): number {
    return this.monetary.n;
  }

  /** what populationStats needs (copies: the builder can go on) */
  data(): PopulationData {
    return {
      monetary: this.monetary.values(),
      quintiles: this.quintiles ? { r: this.qr.values(), f: this.qf.values(), m: this.qm.values() } : null,
      sample: this.models.data(),
    };
  }

  finish(): PopulationStats {
    return populationStats(this.data());
  }
}
