// The customer-base models' fit at a full run's scale: 1,000,000 customers drawn from BG/NBD and Gamma-Gamma
// themselves (days as the unit: first purchase within the last two years, so T is 0..729), collected as pass 1
// collects them (ModelSample) and fitted. Reports the duplication (customers per distinct summary), the time to
// collect, the time to fit, and the parameters found against the ones drawn from. Also the extra pass-1 cost of
// reading each customer's repeat summary from its rollup (repeatCounts, ~20 orders), scaled to 1,000,000.
// Run: npx tsx test/bench/bgnbd.bench.ts   (CUSTOMERS=… to change the population size)
import { fileURLToPath } from 'node:url';
import { ModelSample } from '../../src/domain/bgnbd.ts';
import { compilePolicy, repeatCounts } from '../../src/domain/engine.ts';
import { parsePolicy } from '../../src/domain/policy.ts';
import { prng } from '../../src/app/demo.ts';
import { AS_OF, DAY } from './common.ts';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const TRUE_BG = { r: 0.5, alpha: 20, a: 0.8, b: 4 };
const TRUE_GG = { p: 6, q: 4, gamma: 150 };

/** Marsaglia–Tsang Gamma(shape, scale). */
function gamma(rnd: () => number, shape: number, scale: number): number {
  if (shape < 1) return gamma(rnd, shape + 1, scale) * Math.pow(rnd(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      // Box–Muller normal
      x = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rnd();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
  }
}

/** One customer's (x, t_x, T, repeat spend in fen) drawn from the models, in whole days. */
function draw(rnd: () => number): [number, number, number, number] {
  const T = Math.floor(rnd() * 730);
  const lambda = gamma(rnd, TRUE_BG.r, 1 / TRUE_BG.alpha);
  const ga = gamma(rnd, TRUE_BG.a, 1);
  const p = ga / (ga + gamma(rnd, TRUE_BG.b, 1));
  const nu = gamma(rnd, TRUE_GG.q, 1 / TRUE_GG.gamma);
  let t = 0;
  let lastDay = 0;
  let x = 0;
  let fen = 0;
  for (;;) {
    if (rnd() < p) break; // dropped out after the last purchase
    t += -Math.log(1 - rnd()) / lambda;
    if (t >= T + 1) break;
    const day = Math.floor(t);
    if (day !== lastDay) {
      x++;
      lastDay = day;
      fen += Math.max(1, Math.round(gamma(rnd, TRUE_GG.p, 1 / nu) * 100));
    }
  }
  return [x, lastDay, T, fen];
}

export async function run(): Promise<Record<string, number | string>> {
  const n = Number(process.env.CUSTOMERS ?? 1_000_000);
  const rnd = prng(7);
  const xs = new Int32Array(n);
  const txs = new Int32Array(n);
  const Ts = new Int32Array(n);
  const fens = new Float64Array(n);
  let repeaters = 0;
  for (let i = 0; i < n; i++) {
    [xs[i], txs[i], Ts[i], fens[i]] = draw(rnd);
    if (xs[i] > 0) repeaters++;
  }
  const result: Record<string, number | string> = { customers: n, withRepeats: repeaters };
  const times: { collect: number; fit: number }[] = [];
  let models = null as ReturnType<ModelSample['fit']> | null;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const sample = new ModelSample();
    for (let i = 0; i < n; i++) sample.add(xs[i], txs[i], Ts[i], fens[i]);
    const t1 = performance.now();
    models = sample.fit();
    times.push({ collect: t1 - t0, fit: performance.now() - t1 });
  }
  const best = times.reduce((b, t) => (t.collect + t.fit < b.collect + b.fit ? t : b));
  result.collectMs = Math.round(best.collect);
  result.fitMs = Math.round(best.fit);
  result.totalMs = Math.round(best.collect + best.fit);
  const bg = models!.bgnbd;
  const gg = models!.gammaGamma;
  if (bg) {
    result.bgnbdDistinct = bg.distinct;
    result.bgnbdCustomersPerDistinct = Math.round((n / bg.distinct) * 10) / 10;
    result.bgnbdRows = bg.rows;
    result.bgnbdSampled = String(bg.sampled);
    result.bgnbdCustomersFitted = bg.n;
    result.bgnbdFit = `r ${bg.r.toFixed(3)} α ${bg.alpha.toFixed(2)} a ${bg.a.toFixed(3)} b ${bg.b.toFixed(3)} (drawn from r ${TRUE_BG.r} α ${TRUE_BG.alpha} a ${TRUE_BG.a} b ${TRUE_BG.b})`;
  } else result.bgnbdFit = 'none';
  if (gg) {
    result.gammaGammaDistinct = gg.distinct;
    result.gammaGammaRows = gg.rows;
    result.gammaGammaSampled = String(gg.sampled);
    result.gammaGammaFit = `p ${gg.p.toFixed(3)} q ${gg.q.toFixed(3)} γ ${gg.gamma.toFixed(2)} (drawn from p ${TRUE_GG.p} q ${TRUE_GG.q} γ ${TRUE_GG.gamma})`;
  } else result.gammaGammaFit = 'none';

  // pass 1's extra reading: repeatCounts over rollups of ~20 orders in two years, scaled to 1M
  const parsed = parsePolicy(parse(readFileSync(new URL('../../config/policy.yaml', import.meta.url), 'utf8')));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const policy = compilePolicy(parsed.policy, 1);
  const m = 100_000;
  const rollups = Array.from({ length: m }, () => {
    const k = 10 + Math.floor(rnd() * 21);
    const t = Array.from({ length: k }, () => AS_OF - Math.floor(rnd() * 730 * DAY)).sort((a, b) => a - b);
    return { t, a: t.map(() => 10_000), g: t.map(() => NaN) };
  });
  let bestRead = Infinity;
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (const r of rollups) sink += repeatCounts(r, AS_OF, policy)!.x;
    bestRead = Math.min(bestRead, performance.now() - t0);
  }
  result.repeatCountsMsPer1M = Math.round((bestRead * 1_000_000) / m);
  result.sink = sink > 0 ? 'ok' : 'none';
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run().then((r) => console.log(r));
}
