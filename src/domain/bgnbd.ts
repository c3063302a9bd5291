// The BG/NBD customer-base model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while
// alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase they drop out
// with probability p ~ Beta(a, b). From a customer's repeat purchases x, the time of the last one t_x and the
// time observed T it gives the probability they are still alive and the purchases to expect.
// Fitted by maximum likelihood over the population (Nelder–Mead on the logs of the four parameters).
import type { PopulationModels } from './types.ts';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** A customer's summary: repeat purchases (distinct purchase days after the first), the last one's time and the time observed, in one unit. */
export interface RepeatSummary {
  x: number;
  tx: number;
  T: number;
}

// Lanczos approximation (g = 7, n = 9), accurate to ~15 digits for x > 0.
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}

/** ln(e^u + e^v) without overflow. */
function logAdd(u: number, v: number): number {
  const m = Math.max(u, v);
  return m === -Infinity ? -Infinity : m + Math.log(Math.exp(u - m) + Math.exp(v - m));
}

/** One customer's log-likelihood (the paper's equation 6). */
export function logLikelihood(p: BgNbdParams, c: RepeatSummary): number {
  const { r, alpha, a, b } = p;
  const { x, tx, T } = c;
  const a1 = lnGamma(r + x) - lnGamma(r) + r * Math.log(alpha);
  const a2 = lnGamma(a + b) + lnGamma(b + x) - lnGamma(b) - lnGamma(a + b + x);
  const a3 = -(r + x) * Math.log(alpha + T);
  const a4 = x > 0 ? Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx) : -Infinity;
  return a1 + a2 + logAdd(a3, a4);
}

export function totalLogLikelihood(p: BgNbdParams, customers: readonly RepeatSummary[]): number {
  let ll = 0;
  for (const c of customers) ll += logLikelihood(p, c);
  return ll;
}

/** P(alive | x, t_x, T): 1 for a customer without repeat purchases (the model's convention). */
export function pAlive(p: BgNbdParams, c: RepeatSummary): number {
  if (c.x === 0) return 1;
  const { r, alpha, a, b } = p;
  return 1 / (1 + (a / (b + c.x - 1)) * Math.pow((alpha + c.T) / (alpha + c.tx), r + c.x));
}

/** Gauss's hypergeometric 2F1(a, b; c; z) for |z| < 1, by its series. */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let n = 0; n < 10_000; n++) {
    term *= ((a + n) * (b + n)) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (Math.abs(term) < 1e-15 * Math.abs(sum)) break;
  }
  return sum;
}

/** E[purchases in the next t | x, t_x, T] (the paper's equation 10). */
export function expectedPurchases(p: BgNbdParams, c: RepeatSummary, t: number): number {
  return expectedPurchasesHead(p, c.x, c.T, t) / (1 + aliveOdds(p, c));
}

/** The numerator of equation 10: it depends on x and T alone (the series lives here). */
function expectedPurchasesHead(p: BgNbdParams, x: number, T: number, t: number): number {
  const { r, alpha, a, b } = p;
  const hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t));
  return ((a + b + x - 1) / (a - 1)) * (1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * hyp);
}

function aliveOdds(p: BgNbdParams, c: RepeatSummary): number {
  return c.x > 0 ? (p.a / (p.b + c.x - 1)) * Math.pow((p.alpha + c.T) / (p.alpha + c.tx), p.r + c.x) : 0;
}

/**
 * expectedPurchases for one set of parameters and horizon, over a whole population: in whole days, customers
 * share (x, T) by the thousand, so the series of each distinct pair is summed once. Same values as expectedPurchases.
 */
export function expectedPurchasesOver(p: BgNbdParams, t: number): (c: RepeatSummary) => number {
  const heads = new Map<number, number>();
  return (c) => {
    const { x, T } = c;
    if (!(Number.isInteger(x) && Number.isInteger(T) && x >= 0 && T >= 0 && T < 2 ** 21)) return expectedPurchases(p, c, t);
    const key = x * 2 ** 21 + T;
    let head = heads.get(key);
    if (head === undefined) heads.set(key, (head = expectedPurchasesHead(p, x, T, t)));
    return head / (1 + aliveOdds(p, c));
  };
}

/** Nelder–Mead minimisation of f over R^n from x0 (step: the initial simplex's size). */
export function nelderMead(f: (x: number[]) => number, x0: number[], opts: { step?: number; maxIter?: number; tol?: number } = {}): { x: number[]; fx: number; iterations: number } {
  const n = x0.length;
  const step = opts.step ?? 0.5;
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 5000;
  let simplex = [x0.slice(), ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + step : v)))];
  let values = simplex.map(f);
  let it = 0;
  for (; it < maxIter; it++) {
    const order = values.map((v, i) => i).sort((i, j) => values[i] - values[j]);
    simplex = order.map((i) => simplex[i]);
    values = order.map((i) => values[i]);
    if (Math.abs(values[n] - values[0]) <= tol * (Math.abs(values[0]) + tol)) break;
    const centroid = x0.map((_, j) => simplex.slice(0, n).reduce((s, p) => s + p[j], 0) / n);
    const toward = (k: number) => centroid.map((c, j) => c + k * (simplex[n][j] - c));
    const reflected = toward(-1);
    const fr = f(reflected);
    if (fr < values[0]) {
      const expanded = toward(-2);
      const fe = f(expanded);
      [simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[n - 1]) {
      [simplex[n], values[n]] = [reflected, fr];
    } else {
      const contracted = fr < values[n] ? toward(-0.5) : toward(0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, values[n])) [simplex[n], values[n]] = [contracted, fc];
      else {
        // shrink towards the best vertex
        simplex = simplex.map((p, i) => (i === 0 ? p : p.map((v, j) => simplex[0][j] + 0.5 * (v - simplex[0][j]))));
        values = simplex.map((p, i) => (i === 0 ? values[0] : f(p)));
      }
    }
  }
  return { x: simplex[0], fx: values[0], iterations: it };
}

const MAX_ITER = 5000;

/**
 * Nelder–Mead from `start`, restarted from its optimum until that no longer moves (it can stall on a flat ridge).
 * `converged`: the last restart stopped on its tolerance rather than its iteration limit.
 */
function minimise(objective: (x: number[]) => number, start: number[]): { x: number[]; fx: number; converged: boolean } {
  let best = nelderMead(objective, start, { step: 1, maxIter: MAX_ITER });
  let converged = best.iterations < MAX_ITER;
  for (let i = 0; i < 5; i++) {
    const again = nelderMead(objective, best.x, { step: 0.1, maxIter: MAX_ITER });
    const moved = best.fx - again.fx;
    best = again.fx < best.fx ? again : best;
    converged = again.iterations < MAX_ITER;
    if (moved < 1e-9) break;
  }
  return { ...best, converged };
}

/** The maximum-likelihood parameters for these customers, and the log-likelihood they reach. */
export function fitBgNbd(customers: readonly RepeatSummary[]): BgNbdParams & { logLikelihood: number } {
  const toParams = (v: number[]): BgNbdParams => ({ r: Math.exp(v[0]), alpha: Math.exp(v[1]), a: Math.exp(v[2]), b: Math.exp(v[3]) });
  const objective = (v: number[]) => {
    const ll = totalLogLikelihood(toParams(v), customers);
    return Number.isFinite(ll) ? -ll : Infinity;
  };
  const best = minimise(objective, [0, 0, 0, 0]);
  return { ...toParams(best.x), logLikelihood: -best.fx };
}

// The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer
// Base Analysis"; the note "The Gamma-Gamma Model of Monetary Value", 2013): a customer's spend per purchase
// varies around their own mean, which varies across customers; fitted on the customers with repeat purchases.

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

/** A repeat customer: repeat purchases x and their mean value m (> 0). */
export interface SpendSummary {
  x: number;
  m: number;
}

export function spendLogLikelihood(g: GammaGammaParams, c: SpendSummary): number {
  const { p, q, gamma } = g;
  const px = p * c.x;
  return lnGamma(px + q) - lnGamma(px) - lnGamma(q) + q * Math.log(gamma) + (px - 1) * Math.log(c.m) + px * Math.log(c.x) - (px + q) * Math.log(gamma + c.m * c.x);
}

export function fitGammaGamma(customers: readonly SpendSummary[]): GammaGammaParams & { logLikelihood: number } {
  const repeat = customers.filter((c) => c.x > 0 && c.m > 0);
  const toParams = (v: number[]): GammaGammaParams => ({ p: Math.exp(v[0]), q: Math.exp(v[1]), gamma: Math.exp(v[2]) });
  const objective = (v: number[]) => {
    let ll = 0;
    const g = toParams(v);
    for (const c of repeat) ll += spendLogLikelihood(g, c);
    return Number.isFinite(ll) ? -ll : Infinity;
  };
  const best = minimise(objective, [0, 0, 0]);
  return { ...toParams(best.x), logLikelihood: -best.fx };
}

/**
 * E[mean spend per purchase | x, m]: a weighted mean of the population's (pγ / (q − 1)) and the customer's
 * own m; a customer without repeat purchases gets the population's.
 */
export function expectedSpend(g: GammaGammaParams, c: SpendSummary): number {
  const { p, q, gamma } = g;
  if (c.x === 0) return (p * gamma) / (q - 1);
  return (p * (gamma + c.m * c.x)) / (p * c.x + q - 1);
}

// --- Grouped (weighted) fits --------------------------------------------------------------------------------
// With whole days as the unit, many customers share (x, t_x, T): the log-likelihood is then a weighted sum over
// the distinct summaries, and the terms that depend on x alone (the Γ functions) are computed once per distinct x.

/** A distinct summary and how many customers have it. */
export interface WeightedRepeat extends RepeatSummary {
  n: number;
}

export interface WeightedSpend extends SpendSummary {
  n: number;
}

export interface FitResult {
  logLikelihood: number;
  /** customers the fit saw (the sum of the weights) */
  n: number;
  converged: boolean;
}

/** Distinct values of x and, per row, the index of its x; whether every t_x and T is a small whole number (days). */
function byX(rows: readonly { x: number; tx?: number; T?: number }[]): { xs: number[]; at: Int32Array; days: number } {
  const index = new Map<number, number>();
  const xs: number[] = [];
  const at = new Int32Array(rows.length);
  let days = 0;
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i];
    let k = index.get(c.x);
    if (k === undefined) {
      k = xs.length;
      xs.push(c.x);
      index.set(c.x, k);
    }
    at[i] = k;
    if (days >= 0 && c.T !== undefined) {
      if (Number.isInteger(c.T) && Number.isInteger(c.tx) && c.T < 1 << 17 && c.tx! >= 0) days = Math.max(days, c.T + 1);
      else days = -1;
    }
  }
  return { xs, at, days };
}

let logTable = new Float64Array(0);

/** Σ n·LL over grouped summaries: equals totalLogLikelihood over the customers they stand for. */
export function weightedLogLikelihood(p: BgNbdParams, rows: readonly WeightedRepeat[], pre = byX(rows)): number {
  const { r, alpha, a, b } = p;
  const { xs, at, days } = pre;
  const head = new Float64Array(xs.length);
  const drop = new Float64Array(xs.length);
  const base = -lnGamma(r) + r * Math.log(alpha) + lnGamma(a + b) - lnGamma(b);
  const la = Math.log(a);
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    head[k] = base + lnGamma(r + x) + lnGamma(b + x) - lnGamma(a + b + x);
    drop[k] = x > 0 ? la - Math.log(b + x - 1) : -Infinity;
  }
  // whole days: ln(α + d) once per day rather than twice per row
  const table = days > 0;
  if (table) {
    if (logTable.length < days) logTable = new Float64Array(days);
    for (let d = 0; d < days; d++) logTable[d] = Math.log(alpha + d);
  }
  const lt = logTable;
  let ll = 0;
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i];
    const k = at[i];
    const rx = r + c.x;
    const a3 = -rx * (table ? lt[c.T] : Math.log(alpha + c.T));
    let term = a3;
    if (c.x > 0) {
      const a4 = drop[k] - rx * (table ? lt[c.tx] : Math.log(alpha + c.tx));
      term = a3 > a4 ? a3 + Math.log1p(Math.exp(a4 - a3)) : a4 + Math.log1p(Math.exp(a3 - a4));
    }
    ll += c.n * (head[k] + term);
  }
  return ll;
}

/**
 * The population fits search log-parameters within ±LOG_BOUND (parameters in 1e-6…1e6); a fit is accepted only well
 * inside that box (1e-5…1e5, see `finite`), so an optimum pressed against the bound counts as no fit. A population the model does not describe (e.g. one that buys like clockwork) otherwise sends the simplex
 * towards infinity for thousands of iterations: 13 s at 300,000 customers before this bound, a null fit either way.
 */
const LOG_BOUND = Math.log(1e6);
const bounded = (objective: (v: number[]) => number) => (v: number[]) => (v.some((x) => Math.abs(x) > LOG_BOUND) ? Infinity : objective(v));

/** fitBgNbd over grouped summaries (the same optimum as over the customers they stand for). */
export function fitBgNbdWeighted(rows: readonly WeightedRepeat[]): BgNbdParams & FitResult {
  const pre = byX(rows);
  const toParams = (v: number[]): BgNbdParams => ({ r: Math.exp(v[0]), alpha: Math.exp(v[1]), a: Math.exp(v[2]), b: Math.exp(v[3]) });
  const objective = (v: number[]) => {
    const ll = weightedLogLikelihood(toParams(v), rows, pre);
    return Number.isFinite(ll) ? -ll : Infinity;
  };
  const best = minimise(bounded(objective), [0, 0, 0, 0]);
  let n = 0;
  for (const c of rows) n += c.n;
  return { ...toParams(best.x), logLikelihood: -best.fx, n, converged: best.converged };
}

/** fitGammaGamma over grouped (x, m) with weights; rows with x = 0 or m ≤ 0 are ignored. */
export function fitGammaGammaWeighted(all: readonly WeightedSpend[]): GammaGammaParams & FitResult {
  const rows = all.filter((c) => c.x > 0 && c.m > 0);
  const { xs, at } = byX(rows);
  const lnx = xs.map((x) => Math.log(x));
  const lnm = rows.map((c) => Math.log(c.m));
  const head = new Float64Array(xs.length);
  const toParams = (v: number[]): GammaGammaParams => ({ p: Math.exp(v[0]), q: Math.exp(v[1]), gamma: Math.exp(v[2]) });
  const objective = (v: number[]) => {
    const { p, q, gamma } = toParams(v);
    const base = -lnGamma(q) + q * Math.log(gamma);
    for (let k = 0; k < xs.length; k++) {
      const px = p * xs[k];
      head[k] = base + lnGamma(px + q) - lnGamma(px) + px * lnx[k];
    }
    let ll = 0;
    for (let i = 0; i < rows.length; i++) {
      const c = rows[i];
      const px = p * c.x;
      ll += c.n * (head[at[i]] + (px - 1) * lnm[i] - (px + q) * Math.log(gamma + c.m * c.x));
    }
    return Number.isFinite(ll) ? -ll : Infinity;
  };
  const best = minimise(bounded(objective), [0, 0, 0]);
  let n = 0;
  for (const c of rows) n += c.n;
  return { ...toParams(best.x), logLikelihood: -best.fx, n, converged: best.converged };
}

// --- The population's fit, collected in pass 1 ----------------------------------------------------------------

/** Fewer customers with repeat purchases than this: no fit (the metrics are null). */
export const MIN_REPEAT_CUSTOMERS = 20;
/**
 * At most this many distinct summaries enter a fit. Beyond it, a deterministic sample of the distinct summaries
 * (those whose key hashes lowest), each with all its customers: every customer has the same chance to be in it,
 * and the same population always gives the same sample whatever the order it was read in. 3,000 keeps the fit, which
 * holds the event loop, near 0.3 s at any population size (10,000 took 0.6 s) and recovers the drawn parameters
 * as well (test/bench/bgnbd.bench.ts).
 */
export const MAX_FIT_ROWS = 3_000;

// Summaries are packed into one exact integer key (< 2^53): x < 2^16, t_x ≤ T < 2^17 days; spend key x·2^36 + fen.
const MAX_X = 2 ** 16;
const MAX_DAYS = 2 ** 17;
const DAYS_SHIFT = 2 ** 17;
const X_SHIFT = 2 ** 34;
const FEN_SHIFT = 2 ** 36;

class Keys {
  buf = new Float64Array(1024);
  n = 0;
  push(k: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = k;
  }
  /** distinct keys, ascending, and how many times each occurs */
  counted(): { keys: Float64Array; counts: Float64Array } {
    const sorted = this.buf.slice(0, this.n).sort();
    const keys = new Float64Array(sorted.length);
    const counts = new Float64Array(sorted.length);
    let d = -1;
    for (let i = 0; i < sorted.length; i++) {
      if (d < 0 || keys[d] !== sorted[i]) keys[++d] = sorted[i];
      counts[d]++;
    }
    return { keys: keys.subarray(0, d + 1), counts: counts.subarray(0, d + 1) };
  }
}

/** A 32-bit mix of an integer key below 2^53. */
function hashKey(k: number): number {
  let h = Math.imul((k >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(Math.floor(k / 4294967296) ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Indexes of the rows that enter the fit: all of them, or the MAX_FIT_ROWS whose keys hash lowest. */
function sampled(keys: Float64Array): number[] {
  const all = Array.from(keys, (_, i) => i);
  if (keys.length <= MAX_FIT_ROWS) return all;
  const hashes = new Uint32Array(keys.length);
  for (let i = 0; i < keys.length; i++) hashes[i] = hashKey(keys[i]);
  const limit = hashes.slice().sort()[MAX_FIT_ROWS - 1];
  return all.filter((i) => hashes[i] <= limit);
}

// parameters run off towards 0 or ∞ when the population has no heterogeneity to fit (e.g. everyone buys like a clock)
const finite = (...v: number[]) => v.every((x) => Number.isFinite(x) && x > 1e-5 && x < 1e5);

/**
 * Collects each customer's summary in pass 1 and fits both models at the end. x: repeat purchase days,
 * tx/T in days, repeatFen: the spend of the repeat days (the first day's excluded), integer fen.
 */
/** A ModelSample's summaries as plain arrays, to fit somewhere else (a worker thread). */
export interface ModelSampleData {
  repeat: Float64Array<ArrayBuffer>;
  spend: Float64Array<ArrayBuffer>;
  repeaters: number;
}

export class ModelSample {
  private readonly repeat = new Keys();
  private readonly spend = new Keys();
  private repeaters = 0;

  data(): ModelSampleData {
    return { repeat: this.repeat.buf.slice(0, this.repeat.n), spend: this.spend.buf.slice(0, this.spend.n), repeaters: this.repeaters };
  }

  static from(d: ModelSampleData): ModelSample {
    const s = new ModelSample();
    s.repeat.buf = d.repeat;
    s.repeat.n = d.repeat.length;
    s.spend.buf = d.spend;
    s.spend.n = d.spend.length;
    s.repeaters = d.repeaters;
    return s;
  }

  add(x: number, tx: number, T: number, repeatFen: number): void {
    if (!(x >= 0 && x < MAX_X && tx >= 0 && tx <= T && T < MAX_DAYS)) return;
    this.repeat.push(x * X_SHIFT + tx * DAYS_SHIFT + T);
    if (x === 0) return;
    this.repeaters++;
    if (repeatFen > 0 && repeatFen < FEN_SHIFT) this.spend.push(x * FEN_SHIFT + repeatFen);
  }

  fit(): PopulationModels {
    if (this.repeaters < MIN_REPEAT_CUSTOMERS) return { bgnbd: null, gammaGamma: null };
    const r = this.repeat.counted();
    const rowsR = sampled(r.keys);
    const repeatRows: WeightedRepeat[] = rowsR.map((i) => {
      const k = r.keys[i];
      const x = Math.floor(k / X_SHIFT);
      const rest = k - x * X_SHIFT;
      const tx = Math.floor(rest / DAYS_SHIFT);
      return { x, tx, T: rest - tx * DAYS_SHIFT, n: r.counts[i] };
    });
    const bg = fitBgNbdWeighted(repeatRows);
    const bgnbd = bg.converged && finite(bg.r, bg.alpha, bg.a, bg.b) && Number.isFinite(bg.logLikelihood)
      ? { r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b, logLikelihood: bg.logLikelihood, n: bg.n, rows: repeatRows.length, distinct: r.keys.length, sampled: rowsR.length < r.keys.length }
      : null;
    const s = this.spend.counted();
    let gammaGamma: PopulationModels['gammaGamma'] = null;
    if (s.keys.length > 0) {
      const rowsS = sampled(s.keys);
      const spendRows: WeightedSpend[] = rowsS.map((i) => {
        const k = s.keys[i];
        const x = Math.floor(k / FEN_SHIFT);
        return { x, m: (k - x * FEN_SHIFT) / 100 / x, n: s.counts[i] };
      });
      let n = 0;
      for (const c of spendRows) n += c.n;
      if (n >= MIN_REPEAT_CUSTOMERS) {
        const gg = fitGammaGammaWeighted(spendRows);
        if (gg.converged && finite(gg.p, gg.q, gg.gamma) && gg.q > 1 && Number.isFinite(gg.logLikelihood)) {
          gammaGamma = { p: gg.p, q: gg.q, gamma: gg.gamma, logLikelihood: gg.logLikelihood, n: gg.n, rows: spendRows.length, distinct: s.keys.length, sampled: rowsS.length < s.keys.length };
        }
      }
    }
    return { bgnbd, gammaGamma };
  }
}
