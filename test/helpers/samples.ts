import type { Metrics } from '../../src/domain/types.ts';

/** The metrics of a fully evaluated sample customer (tier rank 4, value score 84). */
export const SPEC_EXAMPLE_METRICS: Metrics = {
  recencyDays: 12,
  frequency: 7,
  monetary: 15300,
  margin: null,
  lifetimeValue: 40100,
  orderCount: 19,
  avgOrderValue: 2185.71,
  tenureDays: 800,
  medianIntervalDays: 21,
  monetaryTopPct: 3.5,
  r: 5,
  f: 5,
  m: 4,
  rfmTotal: 14,
  valueScore: 84,
  previousTierRank: 0,
  tierRank: 4,
  pAlive: null,
  expectedPurchases90d: null,
  clv12m: null,
};
