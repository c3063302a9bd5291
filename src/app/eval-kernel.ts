// The evaluation a read-only pass (the what-if) makes of each customer, and its packed form for a worker
// thread: the rollups as three Float64Arrays (moved, not copied), the rest as one JSON text. Structured
// cloning the rows instead would cost ~10x the evaluation itself (measured: 2,000 rows with their states
// take 12-18 ms to clone, 1.4 ms to evaluate).
import { alertWorthy } from '../domain/alerting.ts';
import { stateFingerprint } from '../domain/fingerprint.ts';
import { StringTable } from '../domain/string-table.ts';
import { compilePolicy, evaluateCustomer, type CompiledPolicy } from '../domain/engine.ts';
import type { Policy } from '../domain/policy.ts';
import type { AlertedRisk, PopulationStats, RiskLevel, Rollup } from '../domain/types.ts';
import type { EvalRow } from '../ports/store.ts';

export interface TallyJob {
  policy: Policy;
  /** the policy's version (stored states carry it); 0 for a draft */
  version?: number;
  asOf: number;
  stats: PopulationStats;
}

/** Per row: the tier (index in policy.tiers), the risk level (index in LEVELS), and whether that risk deserves an alert against the owner's last one. */
export interface Outcomes {
  tiers: Uint16Array<ArrayBuffer>;
  levels: Uint8Array<ArrayBuffer>;
  worthy: Uint8Array<ArrayBuffer>;
}

export const LEVELS: readonly RiskLevel[] = ['none', 'low', 'medium', 'high'];

export interface CompiledJob {
  compiled: CompiledPolicy;
  job: TallyJob;
  tierIndex: ReadonlyMap<string, number>;
}

export function compileJob(job: TallyJob): CompiledJob {
  return { compiled: compilePolicy(job.policy, job.version ?? 0), job, tierIndex: new Map(job.policy.tiers.map((t, i) => [t.key, i])) };
}

type Row = Pick<EvalRow, 'attributes' | 'score' | 'rollup' | 'current'>;

export function evaluateRows(rows: readonly Row[], cj: CompiledJob): Outcomes {
  const n = rows.length;
  const out: Outcomes = { tiers: new Uint16Array(n), levels: new Uint8Array(n), worthy: new Uint8Array(n) };
  const ctx = { policy: cj.compiled, asOf: cj.job.asOf, stats: cj.job.stats, runId: 'what-if' };
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const { state } = evaluateCustomer({ rollup: row.rollup, attributes: row.attributes, score: row.score, current: row.current }, ctx);
    out.tiers[i] = cj.tierIndex.get(state.tier)!;
    out.levels[i] = LEVELS.indexOf(state.risk.level);
    out.worthy[i] = alertWorthy(row.current?.alerted ?? null, state.risk) ? 1 : 0;
  }
  return out;
}

/** Per row of a recompute: whether it needs the full evaluation in the run's thread, and its risk level otherwise. */
export interface Attention {
  needed: Uint8Array<ArrayBuffer>;
  levels: Uint8Array<ArrayBuffer>;
}

/**
 * A recompute's first look at each row: the evaluation's result compared with the stored state by fingerprint.
 * A row needs attention when its visible state would change, when its risk deserves an alert, or when it has
 * no comparable stored state (`expected[i]` NaN: never evaluated, or left by this or an unfinished run). The
 * rest need nothing: the full evaluation would neither write nor tell anyone anything.
 */
export function attentionOf(rows: readonly Row[], expected: Float64Array, cj: CompiledJob): Attention {
  const n = rows.length;
  const out: Attention = { needed: new Uint8Array(n), levels: new Uint8Array(n) };
  const ctx = { policy: cj.compiled, asOf: cj.job.asOf, stats: cj.job.stats, runId: 'attention' };
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (Number.isNaN(expected[i]) || row.current === null) {
      out.needed[i] = 1;
      continue;
    }
    const { state } = evaluateCustomer({ rollup: row.rollup, attributes: row.attributes, score: row.score, current: row.current }, ctx);
    const alerted = row.current.alerted;
    // an alert, or a risk gone whose alert is forgotten with it (state.alerted becomes null)
    const alertChanges = alertWorthy(alerted, state.risk) || (alerted !== null && state.risk.level === 'none');
    out.needed[i] = alertChanges || stateFingerprint(state) !== expected[i] ? 1 : 0;
    out.levels[i] = LEVELS.indexOf(state.risk.level);
  }
  return out;
}

export interface PackedRows {
  t: Float64Array<ArrayBuffer>;
  a: Float64Array<ArrayBuffer>;
  g: Float64Array<ArrayBuffer>;
  /** row i's orders are [ends[i-1], ends[i]) */
  ends: Uint32Array<ArrayBuffer>;
  /** per row: the current state's tierRank (NaN without a current state) and downgradeStreak */
  nums: Float64Array<ArrayBuffer>;
  /** per row, REFS indexes into `texts` (-1: null): tier, since, previous, level, alerted, attributes, score */
  refs: Int32Array<ArrayBuffer>;
  /** JSON of the batch's distinct texts (attributes, scores and alerts as JSON texts themselves) */
  texts: string;
}

const REFS = 7;

/** Distinct texts of one batch, each sent once (tiers, levels, instants and attribute sets repeat across rows). */
class Texts {
  readonly table = new StringTable();
  private readonly byObject = new Map<object, number>();

  ref(s: string | null): number {
    return s === null ? -1 : this.table.id(s);
  }

  /** a JSON value, stringified once per object */
  json(v: object | null): number {
    if (v === null) return -1;
    let i = this.byObject.get(v);
    if (i === undefined) this.byObject.set(v, (i = this.ref(JSON.stringify(v))));
    return i;
  }
}

export function packRows(rows: readonly Row[]): PackedRows {
  let total = 0;
  for (const r of rows) total += r.rollup.t.length;
  const t = new Float64Array(total);
  const a = new Float64Array(total);
  const g = new Float64Array(total);
  const ends = new Uint32Array(rows.length);
  const nums = new Float64Array(rows.length * 2);
  const refs = new Int32Array(rows.length * REFS);
  const texts = new Texts();
  let p = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const k = r.rollup.t.length;
    for (let j = 0; j < k; j++) {
      t[p + j] = r.rollup.t[j];
      a[p + j] = r.rollup.a[j];
      g[p + j] = r.rollup.g[j];
    }
    p += k;
    ends[i] = p;
    const c = r.current;
    const o = i * REFS;
    nums[i * 2] = c === null ? NaN : c.tierRank;
    nums[i * 2 + 1] = c === null ? 0 : c.downgradeStreak;
    refs[o] = c === null ? -1 : texts.ref(c.tier);
    refs[o + 1] = c === null ? -1 : texts.ref(c.since);
    refs[o + 2] = c === null ? -1 : texts.ref(c.previous);
    refs[o + 3] = c === null ? -1 : texts.ref(c.risk.level);
    refs[o + 4] = c === null ? -1 : texts.json(c.alerted);
    refs[o + 5] = texts.json(r.attributes);
    refs[o + 6] = texts.json(r.score);
  }
  return { t, a, g, ends, nums, refs, texts: JSON.stringify(texts.table.all) };
}

/**
 * The rows back. Rollups are views into the packed arrays: the engine only indexes them and reads their
 * length, which typed arrays answer like arrays (the worker and in-thread agreement test holds it to that).
 * Rows with the same attributes (or score, or alert) share one parsed object; the engine only reads them.
 */
export function unpackRows(p: PackedRows): Row[] {
  const texts = JSON.parse(p.texts) as string[];
  const parsed: unknown[] = new Array(texts.length);
  const json = <T>(i: number): T | null => (i < 0 ? null : ((parsed[i] ??= JSON.parse(texts[i])) as T));
  const text = (i: number): string | null => (i < 0 ? null : texts[i]);
  const n = p.ends.length;
  const rows: Row[] = new Array(n);
  let from = 0;
  for (let i = 0; i < n; i++) {
    const to = p.ends[i];
    const rollup = { t: p.t.subarray(from, to), a: p.a.subarray(from, to), g: p.g.subarray(from, to) } as unknown as Rollup;
    const o = i * REFS;
    const rank = p.nums[i * 2];
    const current: Row['current'] = Number.isNaN(rank)
      ? null
      : {
          tier: texts[p.refs[o]],
          tierRank: rank,
          since: texts[p.refs[o + 1]],
          previous: text(p.refs[o + 2]),
          downgradeStreak: p.nums[i * 2 + 1],
          risk: { level: texts[p.refs[o + 3]] as RiskLevel },
          alerted: json<AlertedRisk>(p.refs[o + 4]),
        };
    rows[i] = { attributes: json<Row['attributes']>(p.refs[o + 5]) ?? {}, score: json<Row['score']>(p.refs[o + 6]), current, rollup };
    from = to;
  }
  return rows;
}
