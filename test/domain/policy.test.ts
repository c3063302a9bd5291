import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/domain/policy.ts';
import { defaultPolicyInput } from './helpers.ts';

function issuesOf(patch: (p: Record<string, any>) => void) {
  const p = defaultPolicyInput();
  patch(p);
  const r = parsePolicy(p);
  if (r.ok) throw new Error('expected the policy to be rejected');
  return r.issues;
}

const paths = (issues: { path: string }[]) => issues.map((i) => i.path).sort();

describe('the default policy (config/policy.yaml)', () => {
  it('parses and matches docs/policy.md', () => {
    const r = parsePolicy(defaultPolicyInput());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const p = r.policy;
    expect(p.timezone).toBe('Asia/Shanghai');
    expect(p.window.days).toBe(365);
    expect(p.rfm).toMatchObject({ method: 'thresholds', recency: { breaks: [30, 60, 90, 180] }, monetary: { breaks: [2000, 5000, 10000, 50000] } });
    expect(p.tiers.map((t) => [t.key, t.name, t.rank])).toEqual([
      ['A', '高价值客户', 4],
      ['B', '潜力客户', 3],
      ['W', '待挽回客户', 2],
      ['C', '一般客户', 1],
    ]);
    expect(p.tiers[0].playbook).toEqual({ service: ['1对1专属客户经理', '服务请求优先响应'], marketing: ['新品优先体验权'], sales: ['交叉销售/升级销售机会挖掘'] });
    for (const t of p.tiers) expect(Object.keys(t.playbook ?? {}).sort()).toEqual(['marketing', 'sales', 'service']);
    expect(p.valueScore.missing).toBe('null');
    expect(p.valueScore.dimensions.map((d) => [d.key, d.weight, d.source])).toEqual([
      ['profitability', 0.4, 'manual'],
      ['strength', 0.4, 'manual'],
      ['relationship', 0.2, 'metric'],
    ]);
    for (const d of p.valueScore.dimensions.filter((x) => x.source === 'manual')) expect(d.guidance).toMatch(/[\u4e00-\u9fff]/);
    expect(p.stability.downgradeAfterRuns).toBe(1);
    expect(p.lifecycle).toMatchObject({ newDays: 90, dormantDays: 180, churnedDays: 365 });
    expect(p.churn.map((c) => c.key)).toEqual(['overdue', 'spendDrop', 'quietVip']);
  });
});

describe('parsePolicy rejects a bad policy with the path of every problem', () => {
  it('reports all problems at once, each at its path', () => {
    const issues = issuesOf((p) => {
      p.timezone = 'Asia/Atlantis';
      p.tiers[1].when.all[0].op = 'about';
      p.tiers[0].when.all[2].value = 'lots';
      p.tiers[2].rank = 4;
      p.valueScore.dimensions[0].weight = 0.5;
      p.churn[1].pct = 0;
    });
    expect(paths(issues)).toEqual(
      ['timezone', 'tiers.1.when.all.0.op', 'tiers.0.when.all.2.value', 'tiers.2.rank', 'valueScore.dimensions', 'churn.1.pct'].sort(),
    );
    for (const i of issues) expect(i.message.length).toBeGreaterThan(3);
  });

  it('timezone must be a real IANA zone', () => {
    expect(issuesOf((p) => (p.timezone = 'GMT+8:30ish'))).toEqual([{ path: 'timezone', message: expect.stringContaining('IANA') }]);
  });

  it('window.days is a positive integer', () => {
    expect(paths(issuesOf((p) => (p.window.days = 0)))).toEqual(['window.days']);
    expect(paths(issuesOf((p) => (p.window.days = 1.5)))).toEqual(['window.days']);
  });

  it('rfm breaks: four strictly ascending numbers, needed only with thresholds', () => {
    expect(paths(issuesOf((p) => (p.rfm.recency.breaks = [30, 60, 90])))).toEqual(['rfm.recency.breaks']);
    expect(paths(issuesOf((p) => (p.rfm.frequency.breaks = [2, 6, 4, 10])))).toEqual(['rfm.frequency.breaks']);
    expect(paths(issuesOf((p) => delete p.rfm.monetary))).toEqual(['rfm.monetary']);
    expect(paths(issuesOf((p) => (p.rfm.method = 'deciles')))).toEqual(['rfm.method']);
    const q = defaultPolicyInput();
    q.rfm = { method: 'quintiles' };
    expect(parsePolicy(q).ok).toBe(true);
  });

  it('value score: weights sum to 1 within 1e-9, unique keys, measures only and always on metric dimensions', () => {
    const ok = defaultPolicyInput();
    ok.valueScore.dimensions[0].weight = 0.4 + 5e-10;
    expect(parsePolicy(ok).ok).toBe(true);
    expect(paths(issuesOf((p) => (p.valueScore.dimensions[2].weight = 0.25)))).toEqual(['valueScore.dimensions']);
    expect(paths(issuesOf((p) => (p.valueScore.dimensions[1].key = 'profitability')))).toEqual(['valueScore.dimensions.1.key']);
    expect(paths(issuesOf((p) => delete p.valueScore.dimensions[2].measures))).toEqual(['valueScore.dimensions.2.measures']);
    expect(paths(issuesOf((p) => (p.valueScore.dimensions[0].measures = p.valueScore.dimensions[2].measures)))).toEqual([
      'valueScore.dimensions.0.measures',
    ]);
    expect(paths(issuesOf((p) => (p.valueScore.dimensions[2].measures[0].metric = 'valueScore')))).toEqual([
      'valueScore.dimensions.2.measures.0.metric',
    ]);
    expect(paths(issuesOf((p) => (p.valueScore.dimensions[2].measures[1].bands[2].min = 3)))).toEqual([
      'valueScore.dimensions.2.measures.1.bands',
    ]);
    expect(paths(issuesOf((p) => (p.valueScore.missing = 'skip')))).toEqual(['valueScore.missing']);
    expect(paths(issuesOf((p) => (p.valueScore.dimensions[0].key = 'profit.ability')))).toEqual(['valueScore.dimensions.0.key']);
  });

  it('YAML null for missing means the string "null"', () => {
    const p = defaultPolicyInput();
    p.valueScore.missing = null;
    const r = parsePolicy(p);
    expect(r.ok && r.policy.valueScore.missing).toBe('null');
  });

  it('tiers: at least one, unique keys and ranks, positive integer ranks, the last one always holds', () => {
    expect(paths(issuesOf((p) => (p.tiers = [])))).toEqual(['tiers']);
    expect(paths(issuesOf((p) => (p.tiers[1].key = 'A')))).toEqual(['tiers.1.key']);
    expect(paths(issuesOf((p) => (p.tiers[1].rank = 0)))).toEqual(['tiers.1.rank']);
    expect(paths(issuesOf((p) => (p.tiers[1].rank = 2.5)))).toEqual(['tiers.1.rank']);
    expect(paths(issuesOf((p) => (p.tiers[3].when = { metric: 'frequency', op: 'gte', value: 0 })))).toEqual(['tiers.3.when']);
    expect(paths(issuesOf((p) => (p.tiers[0].playbook.service = 'call them')))).toEqual(['tiers.0.playbook.service']);
  });

  it('playbook sections are free-form string lists', () => {
    const p = defaultPolicyInput();
    p.tiers[0].playbook.finance = ['账期优先'];
    expect(parsePolicy(p).ok).toBe(true);
  });

  it('conditions: unknown metric and operator, value shapes, between order, in arrays', () => {
    const at = (c: unknown) => issuesOf((p) => (p.tiers[0].when = { all: [c] }));
    expect(paths(at({ metric: 'revenue', op: 'gt', value: 1 }))).toEqual(['tiers.0.when.all.0.metric']);
    expect(paths(at({ metric: 'monetary', op: 'approx', value: 1 }))).toEqual(['tiers.0.when.all.0.op']);
    expect(paths(at({ metric: 'monetary', op: 'gt', value: '1' }))).toEqual(['tiers.0.when.all.0.value']);
    expect(paths(at({ metric: 'monetary', op: 'between', value: [5, 1] }))).toEqual(['tiers.0.when.all.0.value']);
    expect(paths(at({ metric: 'monetary', op: 'between', value: [1] }))).toEqual(['tiers.0.when.all.0.value']);
    expect(paths(at({ metric: 'monetary', op: 'in', value: 3 }))).toEqual(['tiers.0.when.all.0.value']);
    expect(paths(at({ metric: 'monetary', op: 'in', value: [1, 'x'] }))).toEqual(['tiers.0.when.all.0.value.1']);
    expect(paths(at({ metric: 'monetary', op: 'gt', value: 1, unit: 'yuan' }))).toEqual(['tiers.0.when.all.0.unit']);
    expect(paths(at({ all: [], any: [] }))).toEqual(['tiers.0.when.all.0']);
    expect(paths(at({ any: { metric: 'r', op: 'eq', value: 5 } }))).toEqual(['tiers.0.when.all.0.any']);
    expect(paths(at({ not: { metric: 'r', op: 'eq' } }))).toEqual(['tiers.0.when.all.0.not.value']);
    expect(paths(at({ always: false }))).toEqual(['tiers.0.when.all.0.always']);
    expect(paths(at('recent'))).toEqual(['tiers.0.when.all.0']);
  });

  it('attributes take only eq, ne and in', () => {
    const at = (c: unknown) => issuesOf((p) => (p.tiers[0].when = c));
    expect(paths(at({ metric: 'attributes.size', op: 'gt', value: 3 }))).toEqual(['tiers.0.when.op']);
    expect(paths(at({ metric: 'attributes.', op: 'eq', value: 'x' }))).toEqual(['tiers.0.when.metric']);
    for (const c of [
      { metric: 'attributes.industry', op: 'eq', value: '制造' },
      { metric: 'attributes.size', op: 'ne', value: 3 },
      { metric: 'attributes.vip', op: 'in', value: [true, 'yes'] },
    ]) {
      const p = defaultPolicyInput();
      p.tiers[0].when = c;
      expect(parsePolicy(p).ok).toBe(true);
    }
  });

  it('tierRank is usable in lifecycle and churn conditions, not in tiers', () => {
    expect(paths(issuesOf((p) => (p.tiers[1].when.all[0] = { metric: 'tierRank', op: 'gte', value: 3 })))).toEqual([
      'tiers.1.when.all.0.metric',
    ]);
    const p = defaultPolicyInput();
    p.lifecycle.mature = { all: [{ metric: 'tierRank', op: 'gte', value: 3 }, { metric: 'previousTierRank', op: 'gte', value: 3 }] };
    expect(parsePolicy(p).ok).toBe(true); // and the default quietVip churn rule uses it
    p.tiers[0].when.all.push({ metric: 'previousTierRank', op: 'gte', value: 4 });
    expect(parsePolicy(p).ok).toBe(true);
  });

  it('stability and lifecycle numbers', () => {
    expect(paths(issuesOf((p) => (p.stability.downgradeAfterRuns = 0)))).toEqual(['stability.downgradeAfterRuns']);
    expect(paths(issuesOf((p) => (p.lifecycle.dormantDays = 400)))).toEqual(['lifecycle.dormantDays']);
    expect(paths(issuesOf((p) => (p.lifecycle.mature = { metric: 'rfmTotal', op: 'gte' })))).toEqual(['lifecycle.mature.value']);
    const p = defaultPolicyInput();
    delete p.stability;
    const r = parsePolicy(p);
    expect(r.ok && r.policy.stability.downgradeAfterRuns).toBe(1);
  });

  it('churn rules: a known detector with its parameters, or a when condition; unique keys', () => {
    expect(paths(issuesOf((p) => (p.churn[0].factor = 0)))).toEqual(['churn.0.factor']);
    expect(paths(issuesOf((p) => (p.churn[0].minDays = -1)))).toEqual(['churn.0.minDays']);
    expect(paths(issuesOf((p) => (p.churn[1].months = 0)))).toEqual(['churn.1.months']);
    expect(paths(issuesOf((p) => (p.churn[1].pct = 120)))).toEqual(['churn.1.pct']);
    expect(paths(issuesOf((p) => (p.churn[1].detector = 'gutFeeling')))).toEqual(['churn.1.detector']);
    expect(paths(issuesOf((p) => (p.churn[2].severity = 'dire')))).toEqual(['churn.2.severity']);
    expect(paths(issuesOf((p) => (p.churn[2].key = 'overdue')))).toEqual(['churn.2.key']);
    expect(paths(issuesOf((p) => (p.churn[2].when.all[1].op = 'after')))).toEqual(['churn.2.when.all.1.op']);
    expect(paths(issuesOf((p) => p.churn.push({ key: 'x', severity: 'low' })))).toEqual(['churn.3']);
    expect(paths(issuesOf((p) => p.churn.push({ key: 'y', severity: 'low', detector: 'overdue', factor: 2, minDays: 1, when: { always: true } })))).toEqual([
      'churn.3',
    ]);
  });

  it('rejects what is not a policy at all', () => {
    const r = parsePolicy('timezone: Asia/Shanghai');
    expect(r.ok).toBe(false);
    const e = parsePolicy({});
    expect(e.ok || paths(e.issues)).toEqual(['lifecycle', 'rfm', 'tiers', 'timezone', 'valueScore', 'window']);
  });
});
