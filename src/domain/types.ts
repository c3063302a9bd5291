// Shapes shared by the pure domain core. No I/O, no clock reads anywhere under src/domain.

/**
 * A customer's orders, compacted at ingest so a recompute never rescans raw orders.
 * Parallel arrays sorted by `t` ascending; cancelled orders are never in here.
 * Money is integer fen (1 yuan = 100 fen) so sums are exact.
 */
export interface Rollup {
  /** occurredAt, epoch milliseconds */
  t: number[];
  /** amount in fen; negative for a refund */
  a: number[];
  /** margin in fen; NaN when the order carried no margin */
  g: number[];
}

/** Everything that depends only on the policy and asOf, computed once per run. */
export interface Frame {
  asOf: number;
  asOfDay: number;
  /** orders with t > windowStart (and t <= asOf) are in the window */
  windowStart: number;
  asOfText: string;
  /** local start days of the months (asOf's month − spendMonths − 1) … asOf's month: spendMonths + 2 entries */
  monthStarts: number[];
  /** 'YYYY-MM' of the spendMonths + 1 complete months before asOf's month, oldest first */
  monthLabels: string[];
}

export interface Metrics {
  recencyDays: number | null;
  frequency: number;
  monetary: number; // yuan, 2 decimals
  margin: number | null; // yuan
  lifetimeValue: number; // yuan
  orderCount: number;
  avgOrderValue: number | null; // yuan, 2 decimals
  tenureDays: number | null;
  medianIntervalDays: number | null;
  monetaryTopPct: number | null;
  r: number | null;
  f: number | null;
  m: number | null;
  rfmTotal: number | null;
  valueScore: number | null;
  previousTierRank: number;
  tierRank: number;
  /** BG/NBD P(alive), 3 decimals; null without orders or without a population fit */
  pAlive: number | null;
  /** BG/NBD expected purchase days in the next 90 days, 2 decimals */
  expectedPurchases90d: number | null;
  /** expected purchase days in the next 365 days × Gamma-Gamma expected spend per purchase day, yuan to the fen, undiscounted */
  clv12m: number | null;
}

export type RiskLevel = 'none' | 'low' | 'medium' | 'high';
export type Severity = 'low' | 'medium' | 'high';
export type Lifecycle = 'prospect' | 'new' | 'growing' | 'mature' | 'dormant' | 'churned';

export interface RiskReason {
  rule: string;
  severity: Severity;
  /** the numbers that made the rule fire */
  detail: Record<string, unknown>;
}

export interface Risk {
  level: RiskLevel;
  reasons: RiskReason[];
}

export interface ConditionTrace {
  metric: string;
  op: string;
  value: unknown;
  actual: unknown;
  held: boolean;
}

export interface Explanation {
  /** key of the tier rule that matched this run */
  rule: string;
  conditions: ConditionTrace[];
  /** set when stability kept the current tier although `rule` ranks lower */
  keptBy?: { stability: true; candidate: string; agreeingRuns: number; needed: number };
}

/** The latest approved manual score of a customer. */
export interface ApprovedScore {
  points: Record<string, number>;
  approvedBy: string;
  approvedAt: string;
  submittedBy?: string;
  requestId?: string;
}

/** What the engine writes back per customer. */
export interface TierState {
  tier: string;
  tierName: string;
  tierRank: number;
  /** ISO instant the current tier was first assigned */
  since: string;
  previous: string | null;
  /** consecutive runs whose result ranked below the current tier (stability) */
  downgradeStreak: number;
  metrics: Metrics;
  lifecycle: Lifecycle;
  risk: Risk;
  explanation: Explanation;
  policyVersion: number;
  evaluatedAt: string;
  runId: string;
  /**
   * The risk the owner was last alerted about (written by the application with the state it
   * follows, so a crash cannot separate the two); absent until an alert has been decided.
   */
  alerted?: AlertedRisk | null;
}

/**
 * What an evaluation carries over from the state before it (tier stability, `since`, `previous`, whether risk
 * rose). A stored TierState has all of it; a reader that needs only this can skip decoding the rest.
 */
export type CarriedState = Pick<TierState, 'tier' | 'tierRank' | 'since' | 'previous' | 'downgradeStreak'> & { risk: Pick<Risk, 'level'> };

export interface AlertedRisk {
  level: 'low' | 'medium' | 'high';
  rules: string[];
  /** the run that decided the alert (its cards carry this run's id) */
  runId: string;
}

/**
 * Population statistics of one full run, needed by `quintiles` RFM and `monetaryTopPct`.
 * `monetaryDesc` holds every evaluated customer's monetary (yuan), sorted descending.
 * Cut-offs: for score s = 2..5, index s-2 holds the value a customer must beat (see engine).
 */
export interface PopulationStats {
  n: number;
  monetaryDesc: Float64Array;
  quintiles: {
    n: number; // customers with non-null recencyDays
    recency: number[];
    frequency: number[];
    monetary: number[];
  } | null;
  /** the customer-base models fitted on this population (absent in statistics saved before they existed) */
  models?: PopulationModels | null;
}

/** Fit bookkeeping: log-likelihood at the optimum, customers fitted (n), distinct summaries used (rows) of all (distinct), and whether they were a sample. */
export interface ModelFit {
  logLikelihood: number;
  n: number;
  rows: number;
  distinct: number;
  sampled: boolean;
}

/** BG/NBD and Gamma-Gamma parameters of one population; null where the population was too small or the fit failed. */
export interface PopulationModels {
  bgnbd: ({ r: number; alpha: number; a: number; b: number } & ModelFit) | null;
  gammaGamma: ({ p: number; q: number; gamma: number } & ModelFit) | null;
}
