// Per-customer metrics from a rollup (docs/policy.md, "Metrics"). Money is summed in integer fen and exposed in yuan.
// A refund is a counted order like any other: it subtracts from the sums and counts in frequency/orderCount,
// and its date counts for recency, tenure and intervals.
import type { CompiledPolicy } from './compile.ts';
import { formatInstant, monthLabel, monthOfDay, monthStartDay, zone } from './time.ts';
import type { Frame, Rollup } from './types.ts';

export function frameFor(cp: CompiledPolicy, asOf: number): Frame {
  const f = cp.frame;
  if (f !== null && f.asOf === asOf) return f;
  const asOfDay = cp.zone.dayOf(asOf);
  const month = monthOfDay(asOfDay);
  const k = cp.spendMonths;
  const monthStarts: number[] = [];
  const monthLabels: string[] = [];
  if (k > 0) {
    for (let j = 0; j <= k + 1; j++) monthStarts.push(monthStartDay(month - k - 1 + j));
    for (let j = 0; j <= k; j++) monthLabels.push(monthLabel(month - k - 1 + j));
  }
  const frame: Frame = {
    asOf,
    asOfDay,
    windowStart: asOf - cp.windowMs,
    asOfText: formatInstant(asOf, cp.tz),
    monthStarts,
    monthLabels,
  };
  cp.frame = frame;
  return frame;
}

export interface BaseMetrics {
  recencyDays: number | null;
  frequency: number;
  /** yuan */
  monetary: number;
}

/** Pass 1 of a run: just what the population statistics need. */
export function baseMetrics(rollup: Rollup, asOfMs: number, cp: CompiledPolicy): BaseMetrics {
  const t = rollup.t;
  const a = rollup.a;
  let end = t.length - 1;
  while (end >= 0 && t[end] > asOfMs) end--;
  if (end < 0) return { recencyDays: null, frequency: 0, monetary: 0 };
  const windowStart = asOfMs - cp.windowMs;
  let frequency = 0;
  let fen = 0;
  for (let i = end; i >= 0 && t[i] > windowStart; i--) {
    frequency++;
    fen += a[i];
  }
  const z = cp.zone;
  return { recencyDays: z.dayOf(asOfMs) - z.dayOf(t[end]), frequency, monetary: fen / 100 };
}

/** Result of a full scan of one rollup; a single reused instance (the engine is synchronous). */
export interface Scan {
  /** counted orders at or before asOf */
  count: number;
  lifetimeFen: number;
  frequency: number;
  monetaryFen: number;
  marginFen: number;
  hasMargin: boolean;
  firstDay: number;
  lastDay: number;
  /** spend in fen of the first local order date (the repeat spend is lifetimeFen − this) */
  firstDayFen: number;
  /** gaps in days between consecutive distinct local order dates, gaps[0 .. nGaps) */
  gaps: Int32Array;
  nGaps: number;
  /** spend in fen of the frame's months, monthFen[0 .. spendMonths] oldest first */
  monthFen: Float64Array;
}

const scan: Scan = {
  count: 0,
  lifetimeFen: 0,
  frequency: 0,
  monetaryFen: 0,
  marginFen: 0,
  hasMargin: false,
  firstDay: 0,
  lastDay: 0,
  firstDayFen: 0,
  gaps: new Int32Array(256),
  nGaps: 0,
  monthFen: new Float64Array(32),
};

export function scanRollup(rollup: Rollup, cp: CompiledPolicy, f: Frame): Scan {
  const t = rollup.t;
  const a = rollup.a;
  const g = rollup.g;
  const asOf = f.asOf;
  let end = t.length - 1;
  while (end >= 0 && t[end] > asOf) end--;
  const s = scan;
  s.count = end + 1;
  s.lifetimeFen = 0;
  s.frequency = 0;
  s.monetaryFen = 0;
  s.marginFen = 0;
  s.hasMargin = false;
  s.nGaps = 0;
  const k = cp.spendMonths;
  const monthFen = s.monthFen;
  for (let j = 0; j <= k; j++) monthFen[j] = 0;
  if (end < 0) return s;
  if (end >= s.gaps.length) s.gaps = new Int32Array(Math.max(end + 1, s.gaps.length * 2));
  const gaps = s.gaps;

  const z = cp.zone;
  const windowStart = f.windowStart;
  const starts = f.monthStarts;
  const spendFrom = k > 0 ? starts[0] : 0;
  const spendTo = k > 0 ? starts[k + 1] : 0;
  let bucket = 0;
  let lifetime = 0;
  let freq = 0;
  let mon = 0;
  let margin = 0;
  let hasMargin = false;
  let nGaps = 0;
  let firstFen = 0;
  let prevDay = z.dayOf(t[0]);
  s.firstDay = prevDay;
  for (let i = 0; i <= end; i++) {
    const ti = t[i];
    const ai = a[i];
    lifetime += ai;
    if (ti > windowStart) {
      freq++;
      mon += ai;
      const gi = g[i];
      if (gi === gi) {
        margin += gi;
        hasMargin = true;
      }
    }
    let d = z.dayOf(ti);
    // a DST fall-back across midnight can step the local date back for an hour; dates stay monotone
    if (d < prevDay) d = prevDay;
    if (d !== prevDay) {
      gaps[nGaps++] = d - prevDay;
      prevDay = d;
    }
    if (nGaps === 0) firstFen += ai;
    if (d >= spendFrom && d < spendTo) {
      while (d >= starts[bucket + 1]) bucket++;
      monthFen[bucket] += ai;
    }
  }
  s.lifetimeFen = lifetime;
  s.frequency = freq;
  s.monetaryFen = mon;
  s.marginFen = margin;
  s.hasMargin = hasMargin;
  s.lastDay = prevDay;
  s.firstDayFen = firstFen;
  s.nGaps = nGaps;
  return s;
}

/**
 * A customer's repeat-purchase summary for the customer-base models, in local days (docs/policy.md, "Customer-base
 * models"): x = distinct local order dates after the first (= the scan's nGaps), tx = last − first date,
 * T = asOf's date − first date, repeatFen = the spend of the repeat dates. Counted orders only, as scanRollup.
 */
export interface RepeatCounts {
  x: number;
  tx: number;
  T: number;
  repeatFen: number;
}

/** The summary as the scan of the same rollup gives it; null without counted orders. */
export function repeatOfScan(s: Scan, asOfDay: number, out: RepeatCounts): RepeatCounts | null {
  if (s.count === 0) return null;
  out.x = s.nGaps;
  out.tx = s.lastDay - s.firstDay;
  out.T = asOfDay - s.firstDay;
  out.repeatFen = s.lifetimeFen - s.firstDayFen;
  return out;
}

const pass1Repeat: RepeatCounts = { x: 0, tx: 0, T: 0, repeatFen: 0 };

/** Pass 1: the same summary as repeatOfScan(scanRollup(...)), reading only dates and amounts; one reused result. */
export function repeatCounts(rollup: Rollup, asOfMs: number, cp: CompiledPolicy): RepeatCounts | null {
  const t = rollup.t;
  const a = rollup.a;
  let end = t.length - 1;
  while (end >= 0 && t[end] > asOfMs) end--;
  if (end < 0) return null;
  const z = cp.zone;
  const firstDay = z.dayOf(t[0]);
  let prevDay = firstDay;
  let x = 0;
  let total = 0;
  let firstFen = 0;
  for (let i = 0; i <= end; i++) {
    let d = z.dayOf(t[i]);
    if (d < prevDay) d = prevDay;
    if (d !== prevDay) {
      x++;
      prevDay = d;
    }
    total += a[i];
    if (x === 0) firstFen += a[i];
  }
  const out = pass1Repeat;
  out.x = x;
  out.tx = prevDay - firstDay;
  out.T = z.dayOf(asOfMs) - firstDay;
  out.repeatFen = total - firstFen;
  return out;
}

// Median by counting: a two-level histogram (coarse buckets of 16 days) finds the k-th smallest gap in a few
// dozen predictable steps, where sorting ~20 random gaps costs several times more. Gaps beyond FINE_SIZE days
// are counted as overflow; only when the median itself lies there do we sort.
const FINE_SIZE = 4096;
const fine = new Int32Array(FINE_SIZE);
const coarse = new Int32Array(FINE_SIZE >> 4);

function kth(k: number): number {
  let c = 0;
  let b = 0;
  while (c + coarse[b] <= k) c += coarse[b++];
  let v = b << 4;
  while (c + fine[v] <= k) c += fine[v++];
  return v;
}

/** Median of the scan's day gaps (mean of the two middle ones for an even count); null without gaps. */
export function medianGap(s: Scan): number | null {
  const n = s.nGaps;
  if (n === 0) return null;
  const g = s.gaps;
  let inHistogram = 0;
  for (let i = 0; i < n; i++) {
    const x = g[i];
    if (x < FINE_SIZE) {
      fine[x]++;
      coarse[x >> 4]++;
      inHistogram++;
    }
  }
  const mid = n >> 1;
  let median: number;
  if (mid < inHistogram) {
    median = n & 1 ? kth(mid) : (kth(mid - 1) + kth(mid)) / 2;
  } else {
    const sorted = g.slice(0, n).sort();
    median = n & 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
  for (let i = 0; i < n; i++) {
    const x = g[i];
    if (x < FINE_SIZE) {
      fine[x] = 0;
      coarse[x >> 4] = 0;
    }
  }
  return median;
}

/**
 * Spend per local calendar month for the last `months` complete months and asOf's (partial) month,
 * oldest first, amounts in yuan — the 12-month trend on cards. Refunds subtract; orders after asOf are ignored.
 */
export function monthlySpend(rollup: Rollup, asOfMs: number, tz: string, months: number): { month: string; amount: number }[] {
  const z = zone(tz);
  const current = monthOfDay(z.dayOf(asOfMs));
  const first = current - months;
  const fen = new Array<number>(months + 1).fill(0);
  const fromDay = monthStartDay(first);
  for (let i = 0; i < rollup.t.length; i++) {
    const t = rollup.t[i];
    if (t > asOfMs) break;
    const d = z.dayOf(t);
    if (d < fromDay) continue;
    fen[monthOfDay(d) - first] += rollup.a[i];
  }
  return fen.map((f, i) => ({ month: monthLabel(first + i), amount: f / 100 }));
}

