// The BG/NBD customer-base model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while
// alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase they drop out
// with probability p ~ Beta(a, b). From a customer's repeat purchases x, the time of the last one t_x and the
// time observed T it gives the probability they are still alive and the purchases to expect.
// Fitted by maximum likelihood over the population (Nelder–Mead on the logs of the four parameters).

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
  const { r, alpha, a, b } = p;
  const { x, tx, T } = c;
  const hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t));
  const head = ((a + b + x - 1) / (a - 1)) * (1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * hyp);
  const tail = x > 0 ? (a / (b + x - 1)) * Math.pow((alpha + T) / (alpha + tx), r + x) : 0;
  return head / (1 + tail);
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

/** Nelder–Mead from `start`, restarted from its optimum until that no longer moves (it can stall on a flat ridge). */
function minimise(objective: (x: number[]) => number, start: number[]): { x: number[]; fx: number } {
  let best = nelderMead(objective, start, { step: 1 });
  for (let i = 0; i < 5; i++) {
    const again = nelderMead(objective, best.x, { step: 0.1 });
    const moved = best.fx - again.fx;
    best = again.fx < best.fx ? again : best;
    if (moved < 1e-9) break;
  }
  return best;
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
