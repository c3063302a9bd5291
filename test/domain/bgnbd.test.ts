// BG/NBD against its published fit on CDNOW and against lifetimes' per-customer numbers; and what must hold
// for any parameters (fast-check): a more recent last purchase never lowers P(alive), more purchases with the
// same recency never lower the purchases to expect.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectedPurchases, expectedPurchasesOver, expectedSpend, fitBgNbd, fitGammaGamma, hyp2f1, lnGamma, pAlive, type BgNbdParams } from '../../src/domain/bgnbd.ts';

const csv = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const cdnow = csv('cdnow-customers-summary.csv').map(([id, x, tx, T]) => ({ id, x, tx, T }));
const reference = new Map(csv('cdnow-lifetimes-reference.csv').map(([id, p, e]) => [id, { pAlive: p, expected52: e }]));

describe('BG/NBD on the CDNOW sample', () => {
  const fit = fitBgNbd(cdnow);

  it('reproduces the published parameters within 1% and the log-likelihood', () => {
    // Fader, Hardie & Lee (2005), section 4: r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9,582.4
    const published: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    for (const k of ['r', 'alpha', 'a', 'b'] as const) expect(Math.abs(fit[k] / published[k] - 1)).toBeLessThan(0.01);
    expect(fit.logLikelihood).toBeCloseTo(-9582.4, 0);
  });

  it("gives lifetimes' P(alive) and 52-week expected purchases for every customer within 1e-3", () => {
    expect(cdnow).toHaveLength(2357);
    let worst = 0;
    for (const c of cdnow) {
      const ref = reference.get(c.id)!;
      worst = Math.max(worst, Math.abs(pAlive(fit, c) - ref.pAlive));
      expect(Math.abs(expectedPurchases(fit, c, 52) - ref.expected52)).toBeLessThan(1e-3 * Math.max(1, ref.expected52));
    }
    expect(worst).toBeLessThan(1e-3);
  });
});

describe('Gamma-Gamma on the CDNOW sample', () => {
  const spend = csv('cdnow-spend-reference.csv').map(([id, x, m, ref]) => ({ id, x, m, ref }));
  const fit = fitGammaGamma(spend);

  it("reproduces lifetimes' fit (p 6.249, q 3.745, γ 15.448 on the 946 repeat customers) and its expected spend per customer", () => {
    expect(spend.filter((c) => c.x > 0)).toHaveLength(946);
    expect(Math.abs(fit.p / 6.2488 - 1)).toBeLessThan(0.01);
    expect(Math.abs(fit.q / 3.7446 - 1)).toBeLessThan(0.01);
    expect(Math.abs(fit.gamma / 15.4477 - 1)).toBeLessThan(0.01);
    for (const c of spend) expect(Math.abs(expectedSpend(fit, c) - c.ref)).toBeLessThan(1e-2);
  });

  it('shrinks a customer towards the population: the fewer purchases, the closer to its mean', () => {
    const population = expectedSpend(fit, { x: 0, m: 0 });
    const one = expectedSpend(fit, { x: 1, m: 100 });
    const ten = expectedSpend(fit, { x: 10, m: 100 });
    expect(one).toBeGreaterThan(population);
    expect(ten).toBeGreaterThan(one);
    expect(ten).toBeLessThan(100);
  });
});

describe('BG/NBD properties', () => {
  const params = fc.record({ r: fc.double({ min: 0.05, max: 5, noNaN: true }), alpha: fc.double({ min: 0.5, max: 50, noNaN: true }), a: fc.double({ min: 0.05, max: 5, noNaN: true }), b: fc.double({ min: 0.05, max: 10, noNaN: true }) });
  const history = fc.record({ x: fc.integer({ min: 1, max: 40 }), T: fc.double({ min: 1, max: 104, noNaN: true }), share: fc.double({ min: 0, max: 1, noNaN: true }), later: fc.double({ min: 0, max: 1, noNaN: true }) });

  it('a more recent last purchase never lowers P(alive)', () => {
    fc.assert(
      fc.property(params, history, (p, h) => {
        const tx = h.share * h.T;
        const more = tx + h.later * (h.T - tx);
        expect(pAlive(p, { x: h.x, tx: more, T: h.T })).toBeGreaterThanOrEqual(pAlive(p, { x: h.x, tx, T: h.T }) - 1e-12);
      }),
      { numRuns: 500 },
    );
  });

  it('more purchases with the same recency never lower the purchases to expect (when P(alive) does not fall)', () => {
    fc.assert(
      fc.property(params.filter((p) => p.a > 1.05), history, fc.double({ min: 1, max: 52, noNaN: true }), (p, h, t) => {
        // all purchases at the end of the observed time: the customer is surely active, more of them mean a higher rate
        const c = { x: h.x, tx: h.T, T: h.T };
        expect(expectedPurchases(p, { ...c, x: c.x + 1 }, t)).toBeGreaterThanOrEqual(expectedPurchases(p, c, t) - 1e-9);
      }),
      { numRuns: 500 },
    );
  });

  it('over a population in whole days, the purchases to expect are exactly those of each customer alone', () => {
    const day = fc.integer({ min: 0, max: 800 });
    fc.assert(
      fc.property(params.filter((p) => p.a > 1.05), fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), day, day), { minLength: 1, maxLength: 60 }), fc.constantFrom(90, 365), (p, rows, t) => {
        const over = expectedPurchasesOver(p, t);
        // pairs repeat (x, T) with other t_x, so the shared part is reused, and fractional days take the plain path
        const customers = rows.flatMap(([x, a, b]) => {
          const T = Math.max(a, b);
          const tx = x === 0 ? 0 : Math.min(a, b);
          return [{ x, tx, T }, { x, tx: Math.floor(tx / 2), T }, { x, tx: tx / 3, T: T + 0.5 }];
        });
        for (const c of customers) expect(over(c)).toBe(expectedPurchases(p, c, t));
      }),
      { numRuns: 200 },
    );
  });

  it('its special functions agree with known values', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 12);
    expect(lnGamma(10)).toBeCloseTo(Math.log(362_880), 10);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    // 2F1(1, 1; 2; z) = −ln(1 − z) / z
    expect(hyp2f1(1, 1, 2, 0.5)).toBeCloseTo(-Math.log(0.5) / 0.5, 12);
  });
});
