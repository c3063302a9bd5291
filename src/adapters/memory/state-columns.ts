// Tier states of the memory store in columns: numbers in typed arrays, repeated strings interned (the alert
// decision's rule list too), and the two open-ended parts (condition traces, risk reasons) as JSON texts that a
// read parses only when they are looked at (a recompute compares reasons, and never reads the traces).
//
// Why: a TierState as objects is ~15 heap objects and ~1.1 KB. At 1,000,000 customers that was 1.1 GB of old
// generation that every major GC had to mark (pauses of 0.6-1 s at 1M, GC 15-25% of a run). Here a state is
// ~260 bytes of typed arrays outside the heap plus up to two flat strings the GC never scans (none for the
// most common state: no conditions, no reasons). Reads decode a fresh object (the caller owns it); writes copy.
//
// A state of another shape (fields this codec does not know, or values of other types) is kept whole, as
// JSON, so nothing is ever dropped; the round trip is exact for everything the engine produces (tested).
import { stateFingerprint } from '../../domain/fingerprint.ts';
import { StringTable } from '../../domain/string-table.ts';
import type { AlertedRisk, Explanation, Metrics, Risk, TierState } from '../../domain/types.ts';

import type { EvalRow } from '../../ports/store.ts';
import { carriedOf } from '../shared/carried.ts';

const METRICS = [
  'recencyDays', 'frequency', 'monetary', 'margin', 'lifetimeValue', 'orderCount', 'avgOrderValue', 'tenureDays',
  'medianIntervalDays', 'monetaryTopPct', 'r', 'f', 'm', 'rfmTotal', 'valueScore', 'previousTierRank', 'tierRank',
  'pAlive', 'expectedPurchases90d', 'clv12m',
] as const satisfies readonly (keyof Metrics)[];
const METRIC_KEYS: ReadonlySet<string> = new Set(METRICS);
const STATE_KEYS: ReadonlySet<string> = new Set([
  'tier', 'tierName', 'tierRank', 'since', 'previous', 'downgradeStreak', 'metrics', 'lifecycle', 'risk', 'explanation',
  'policyVersion', 'evaluatedAt', 'runId', 'alerted',
]);

// numbers per state: the metrics, then tierRank, downgradeStreak, policyVersion, keptBy's agreeingRuns and needed
const TIER_RANK = METRICS.length, STREAK = TIER_RANK + 1, VERSION = TIER_RANK + 2, KEPT_AGREEING = TIER_RANK + 3, KEPT_NEEDED = TIER_RANK + 4;
/** stateFingerprint of the state, when the columns keep fingerprints */
const FINGERPRINT = TIER_RANK + 5;
const NUMS = TIER_RANK + 6;
// strings per state (interned ids), then flags and the null mask of the metrics
const TIER = 0, TIER_NAME = 1, SINCE = 2, PREVIOUS = 3, LIFECYCLE = 4, LEVEL = 5, EVALUATED_AT = 6, RUN = 7, RULE = 8;
const KEPT_CANDIDATE = 9, ALERT_LEVEL = 10, ALERT_RULES = 11, ALERT_RUN = 12, FLAGS = 13, NULLS = 14;
const INTS = 15;

const FLAG_PRESENT = 1;
/** kept whole as JSON in `conditions` */
const FLAG_OPAQUE = 2;
const FLAG_KEPT = 4;
/** `alerted` present, and null */
const FLAG_ALERTED = 8;
const FLAG_ALERTED_NULL = 16;
const NONE = -1;
const EMPTY = '[]';

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** One state per slot (the store's customer index). */
export class StateColumns {
  private readonly nums: Float64Array[] = [];
  private readonly ints: Int32Array[] = [];
  /** JSON of explanation.conditions (of the whole state when it is kept whole) */
  private readonly conditions: string[] = [];
  /** JSON of risk.reasons */
  private readonly reasons: string[] = [];

  /** `fingerprints`: keep each state's stateFingerprint (what a run compares its results with) */
  constructor(
    /** interned strings shared by the columns of one store */
    private readonly strings: StringTable,
    private readonly fingerprints = false,
  ) {}

  /** stateFingerprint of the slot's state (null without a state; NaN when these columns keep none) */
  fingerprint(slot: number): number | null {
    if (!this.has(slot)) return null;
    return this.fingerprints ? this.nums[slot >>> CHUNK_BITS][(slot & CHUNK_MASK) * NUMS + FINGERPRINT] : NaN;
  }

  has(slot: number): boolean {
    const chunk = this.ints[slot >>> CHUNK_BITS];
    return chunk !== undefined && (chunk[(slot & CHUNK_MASK) * INTS + FLAGS] & FLAG_PRESENT) !== 0;
  }

  /** One of the slot's state's tier key, risk level or run id, or null without a state (filters and counts: no object made). */
  field(slot: number, name: 'tier' | 'level' | 'runId'): string | null {
    if (!this.has(slot)) return null;
    if (!this.plain(slot)) {
      const s = this.get(slot)!;
      return name === 'tier' ? s.tier : name === 'level' ? (s.risk?.level ?? null) : s.runId;
    }
    return this.strings.get(this.ints[slot >>> CHUNK_BITS][(slot & CHUNK_MASK) * INTS + (name === 'tier' ? TIER : name === 'level' ? LEVEL : RUN)]);
  }

  /** True when the slot's state was written by that run. */
  writtenBy(slot: number, runId: string): boolean {
    return this.field(slot, 'runId') === runId;
  }

  /** The tier key, risk level and run id of the slot's state, or null without one. */
  head(slot: number): { tier: string; level: string; runId: string } | null {
    if (!this.has(slot)) return null;
    return { tier: this.field(slot, 'tier')!, level: this.field(slot, 'level')!, runId: this.field(slot, 'runId')! };
  }

  /** What an evaluation carries over from the slot's state, and its last alert; no metrics, traces or reasons decoded. */
  carried(slot: number): EvalRow['current'] {
    if (!this.has(slot)) return null;
    if (!this.plain(slot)) return carriedOf(this.get(slot)!);
    const ints = this.ints[slot >>> CHUNK_BITS];
    const o = (slot & CHUNK_MASK) * INTS;
    const nums = this.nums[slot >>> CHUNK_BITS];
    const n = (slot & CHUNK_MASK) * NUMS;
    const t = this.strings;
    const flags = ints[o + FLAGS];
    const previous = ints[o + PREVIOUS];
    return {
      tier: t.get(ints[o + TIER]),
      tierRank: nums[n + TIER_RANK],
      since: t.get(ints[o + SINCE]),
      previous: previous === NONE ? null : t.get(previous),
      downgradeStreak: nums[n + STREAK],
      risk: { level: t.get(ints[o + LEVEL]) as Risk['level'] },
      alerted: (flags & FLAG_ALERTED) === 0 || (flags & FLAG_ALERTED_NULL) !== 0
        ? null
        : { level: t.get(ints[o + ALERT_LEVEL]) as AlertedRisk['level'], rules: JSON.parse(t.get(ints[o + ALERT_RULES])) as string[], runId: t.get(ints[o + ALERT_RUN]) },
    };
  }

  clear(slot: number): void {
    const chunk = this.ints[slot >>> CHUNK_BITS];
    if (chunk === undefined) return;
    chunk[(slot & CHUNK_MASK) * INTS + FLAGS] = 0;
    this.conditions[slot] = EMPTY;
    this.reasons[slot] = EMPTY;
  }

  set(slot: number, state: TierState | null): void {
    if (state === null) return this.clear(slot);
    this.ensure(slot);
    const nums = this.nums[slot >>> CHUNK_BITS];
    const ints = this.ints[slot >>> CHUNK_BITS];
    const n = (slot & CHUNK_MASK) * NUMS;
    const o = (slot & CHUNK_MASK) * INTS;
    if (!encodable(state)) {
      if (this.fingerprints) nums[n + FINGERPRINT] = stateFingerprint(state);
      ints[o + FLAGS] = FLAG_PRESENT | FLAG_OPAQUE;
      this.conditions[slot] = JSON.stringify(state);
      this.reasons[slot] = EMPTY;
      return;
    }
    const m = state.metrics;
    let nulls = 0;
    for (let i = 0; i < METRICS.length; i++) {
      const v = m[METRICS[i]];
      if (v === null) {
        nulls |= 1 << i;
        nums[n + i] = 0;
      } else nums[n + i] = v;
    }
    nums[n + TIER_RANK] = state.tierRank;
    nums[n + STREAK] = state.downgradeStreak;
    nums[n + VERSION] = state.policyVersion;
    const t = this.strings;
    ints[o + TIER] = t.id(state.tier);
    ints[o + TIER_NAME] = t.id(state.tierName);
    ints[o + SINCE] = t.id(state.since);
    ints[o + PREVIOUS] = state.previous === null ? NONE : t.id(state.previous);
    ints[o + LIFECYCLE] = t.id(state.lifecycle);
    ints[o + LEVEL] = t.id(state.risk.level);
    ints[o + EVALUATED_AT] = t.id(state.evaluatedAt);
    ints[o + RUN] = t.id(state.runId);
    ints[o + RULE] = t.id(state.explanation.rule);
    ints[o + NULLS] = nulls;
    let flags = FLAG_PRESENT;
    const kept = state.explanation.keptBy;
    if (kept !== undefined) {
      flags |= FLAG_KEPT;
      ints[o + KEPT_CANDIDATE] = t.id(kept.candidate);
      nums[n + KEPT_AGREEING] = kept.agreeingRuns;
      nums[n + KEPT_NEEDED] = kept.needed;
    }
    if ('alerted' in state) {
      const a = state.alerted;
      flags |= FLAG_ALERTED;
      if (a === null || a === undefined) flags |= FLAG_ALERTED_NULL;
      else {
        ints[o + ALERT_LEVEL] = t.id(a.level);
        ints[o + ALERT_RULES] = t.id(JSON.stringify(a.rules));
        ints[o + ALERT_RUN] = t.id(a.runId);
      }
    }
    ints[o + FLAGS] = flags;
    const c = state.explanation.conditions;
    const r = state.risk.reasons;
    this.conditions[slot] = c.length === 0 ? EMPTY : JSON.stringify(c);
    this.reasons[slot] = r.length === 0 ? EMPTY : JSON.stringify(r);
    if (this.fingerprints) nums[n + FINGERPRINT] = stateFingerprint(state, r.length === 0 ? '' : this.reasons[slot]);
  }

  /** A fresh copy of the slot's state, or null. */
  get(slot: number): TierState | null {
    if (!this.has(slot)) return null;
    const ints = this.ints[slot >>> CHUNK_BITS];
    const o = (slot & CHUNK_MASK) * INTS;
    const flags = ints[o + FLAGS];
    if ((flags & FLAG_OPAQUE) !== 0) return JSON.parse(this.conditions[slot]) as TierState;
    const nums = this.nums[slot >>> CHUNK_BITS];
    const n = (slot & CHUNK_MASK) * NUMS;
    const z = ints[o + NULLS];
    const metrics: Metrics = {
      recencyDays: z & 1 ? null : nums[n],
      frequency: nums[n + 1],
      monetary: nums[n + 2],
      margin: z & 8 ? null : nums[n + 3],
      lifetimeValue: nums[n + 4],
      orderCount: nums[n + 5],
      avgOrderValue: z & 64 ? null : nums[n + 6],
      tenureDays: z & 128 ? null : nums[n + 7],
      medianIntervalDays: z & 256 ? null : nums[n + 8],
      monetaryTopPct: z & 512 ? null : nums[n + 9],
      r: z & 1024 ? null : nums[n + 10],
      f: z & 2048 ? null : nums[n + 11],
      m: z & 4096 ? null : nums[n + 12],
      rfmTotal: z & 8192 ? null : nums[n + 13],
      valueScore: z & 16384 ? null : nums[n + 14],
      previousTierRank: nums[n + 15],
      tierRank: nums[n + 16],
      pAlive: z & 131072 ? null : nums[n + 17],
      expectedPurchases90d: z & 262144 ? null : nums[n + 18],
      clv12m: z & 524288 ? null : nums[n + 19],
    };
    const t = this.strings;
    const previous = ints[o + PREVIOUS];
    const explanation = explanationOf(t.get(ints[o + RULE]), this.conditions[slot]);
    if ((flags & FLAG_KEPT) !== 0) {
      explanation.keptBy = { stability: true, candidate: t.get(ints[o + KEPT_CANDIDATE]), agreeingRuns: nums[n + KEPT_AGREEING], needed: nums[n + KEPT_NEEDED] };
    }
    const state: TierState = {
      tier: t.get(ints[o + TIER]),
      tierName: t.get(ints[o + TIER_NAME]),
      tierRank: nums[n + TIER_RANK],
      since: t.get(ints[o + SINCE]),
      previous: previous === NONE ? null : t.get(previous),
      downgradeStreak: nums[n + STREAK],
      metrics,
      lifecycle: t.get(ints[o + LIFECYCLE]) as TierState['lifecycle'],
      risk: riskOf(t.get(ints[o + LEVEL]) as Risk['level'], this.reasons[slot]),
      explanation,
      policyVersion: nums[n + VERSION],
      evaluatedAt: t.get(ints[o + EVALUATED_AT]),
      runId: t.get(ints[o + RUN]),
    };
    if ((flags & FLAG_ALERTED) !== 0) {
      state.alerted = (flags & FLAG_ALERTED_NULL) !== 0
        ? null
        : { level: t.get(ints[o + ALERT_LEVEL]) as AlertedRisk['level'], rules: JSON.parse(t.get(ints[o + ALERT_RULES])) as string[], runId: t.get(ints[o + ALERT_RUN]) };
    }
    return state;
  }

  private plain(slot: number): boolean {
    const chunk = this.ints[slot >>> CHUNK_BITS];
    return chunk !== undefined && (chunk[(slot & CHUNK_MASK) * INTS + FLAGS] & (FLAG_PRESENT | FLAG_OPAQUE)) === FLAG_PRESENT;
  }

  private ensure(slot: number): void {
    const c = slot >>> CHUNK_BITS;
    while (this.ints.length <= c) {
      this.ints.push(new Int32Array(CHUNK * INTS));
      this.nums.push(new Float64Array(CHUNK * NUMS));
    }
    while (this.conditions.length <= slot) {
      this.conditions.push(EMPTY);
      this.reasons.push(EMPTY);
    }
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number';
const isText = (v: unknown): v is string => typeof v === 'string';

/** True when the state has exactly the shape the columns hold (else it is kept whole). */
function encodable(s: TierState): boolean {
  for (const k in s) if (!STATE_KEYS.has(k)) return false;
  if (!isText(s.tier) || !isText(s.tierName) || !isText(s.since) || !(s.previous === null || isText(s.previous))) return false;
  if (!isText(s.lifecycle) || !isText(s.evaluatedAt) || !isText(s.runId)) return false;
  if (!isNumber(s.tierRank) || !isNumber(s.downgradeStreak) || !isNumber(s.policyVersion)) return false;
  const m = s.metrics as unknown as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null) return false;
  let count = 0;
  for (const k in m) {
    if (!METRIC_KEYS.has(k)) return false;
    count++;
  }
  if (count !== METRICS.length) return false;
  for (let i = 0; i < METRICS.length; i++) {
    const v = m[METRICS[i]];
    // the required ones are never null; JSON (the other store) has no NaN or ±Infinity
    if (v === null ? !(NULLABLE >>> i & 1) : !isNumber(v) || !Number.isFinite(v)) return false;
  }
  const risk = s.risk as unknown as Record<string, unknown> | null;
  if (typeof risk !== 'object' || risk === null || !isText(risk.level) || !Array.isArray(risk.reasons)) return false;
  for (const k in risk) if (k !== 'level' && k !== 'reasons') return false;
  const e = s.explanation as unknown as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null || !isText(e.rule) || !Array.isArray(e.conditions)) return false;
  for (const k in e) if (k !== 'rule' && k !== 'conditions' && k !== 'keptBy') return false;
  if ('keptBy' in e) {
    const k = e.keptBy as Record<string, unknown> | undefined;
    if (typeof k !== 'object' || k === null || k.stability !== true || !isText(k.candidate) || !isNumber(k.agreeingRuns) || !isNumber(k.needed)) return false;
    for (const key in k) if (key !== 'stability' && key !== 'candidate' && key !== 'agreeingRuns' && key !== 'needed') return false;
  }
  if ('alerted' in s) {
    const a = s.alerted as unknown as Record<string, unknown> | null | undefined;
    if (a === undefined) return false;
    if (a !== null) {
      if (!isText(a.level) || !isText(a.runId) || !Array.isArray(a.rules) || !a.rules.every(isText)) return false;
      for (const key in a) if (key !== 'level' && key !== 'rules' && key !== 'runId') return false;
    }
  }
  return true;
}

// Condition traces are parsed on first access (a recompute never reads them). The accessor is an own, enumerable
// property in the object's key order, so spreads, JSON.stringify and deep equality see what a plain property
// would hold; written as an object literal it costs a fraction of Object.defineProperty (measured per decode).
function explanationOf(rule: string, text: string): Explanation {
  if (text === EMPTY) return { rule, conditions: [] };
  let parsed: Explanation['conditions'] | undefined;
  return {
    rule,
    get conditions() {
      return (parsed ??= JSON.parse(text) as Explanation['conditions']);
    },
    set conditions(v) {
      parsed = v;
    },
  };
}

// Risk reasons are parsed at once: every reader (a recompute's comparison, cards, the console) looks at them.
const riskOf = (level: Risk['level'], text: string): Risk => ({ level, reasons: text === EMPTY ? [] : (JSON.parse(text) as Risk['reasons']) });

/** bit i set: METRICS[i] may be null */
const NULLABLE = METRICS.reduce((bits, k, i) => (['frequency', 'monetary', 'lifetimeValue', 'orderCount', 'previousTierRank', 'tierRank'].includes(k) ? bits : bits | (1 << i)), 0);
