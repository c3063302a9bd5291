// What the people who got churn alerts said about them, per detector over time: the alerts sent (the outbox's
// churn_alert cards), and the feedback logged on them afterwards (contact outcomes from the card, audited).
import type { Org } from '../ports/store.ts';
import type { Store } from '../ports/store.ts';
import { canSee, type Viewer } from './access.ts';
import { AUDIT, type AuditEntry } from './audit.ts';
import { OUTBOX, type OutboxItem } from './outbox.ts';

/** the audit action a "not at risk" answer on an alert records (the churn alert's and customer card's action) */
export const NOT_AT_RISK_ACTION = 'alert.notAtRisk';

export interface DetectorBucket {
  detector: string;
  /** week: the Monday (UTC) starting it, YYYY-MM-DD; month: YYYY-MM */
  bucket: string;
  alertsSent: number;
  notAtRisk: number;
  wonBack: number;
  lost: number;
  /** contact outcomes that say nothing about the risk (reached, no answer) */
  otherOutcomes: number;
  /** alerts with no feedback at all */
  noOutcome: number;
  /** lost + won back: the risk was real */
  confirmed: number;
  /** marked not at risk */
  rejected: number;
  /** confirmed / (confirmed + rejected); null when neither */
  precision: number | null;
}

export function bucketOf(iso: string, bucket: 'week' | 'month'): string {
  if (bucket === 'month') return iso.slice(0, 7);
  const d = new Date(iso.slice(0, 10) + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

/** the detectors an alert card named: its idempotency key ends with the period `level:rule+rule:runId` */
function rulesOf(item: OutboxItem): string[] {
  const period = item._id.split('|').pop() ?? '';
  const rules = period.split(':')[1] ?? '';
  return rules ? rules.split('+') : [];
}

export async function detectorFeedback(store: Store, org: Org, v: Viewer, range: { from: string; to: string; bucket: 'week' | 'month' }): Promise<DetectorBucket[]> {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  const seen = new Map<string, boolean>();
  const visible = async (customerId: string) => {
    let ok = seen.get(customerId);
    if (ok === undefined) {
      const c = await store.getCustomer(customerId);
      ok = c !== null && canSee(v, org, c);
      seen.set(customerId, ok);
    }
    return ok;
  };
  // one alert per customer and run (its owner's card), whatever its recipient count
  const sent = await store.docs.find<OutboxItem>(OUTBOX, { kind: 'churn_alert' });
  const alerts = new Map<string, { customerId: string; at: string; rules: string[] }>();
  for (const item of sent) {
    if (item.op !== 'send') continue;
    const at = Date.parse(item.createdAt);
    if (at < from || at >= to || !(await visible(item.subject))) continue;
    const key = `${item.subject}|${item._id.split('|').pop()}`;
    if (!alerts.has(key)) alerts.set(key, { customerId: item.subject, at: item.createdAt, rules: rulesOf(item) });
  }
  const byCustomer = new Map<string, { at: string; rules: string[]; feedback: string[] }[]>();
  for (const a of [...alerts.values()].sort((x, y) => (x.at < y.at ? -1 : 1))) {
    const list = byCustomer.get(a.customerId) ?? [];
    list.push({ at: a.at, rules: a.rules, feedback: [] });
    byCustomer.set(a.customerId, list);
  }
  // each feedback belongs to the latest alert on that customer sent before it
  const entries = await store.docs.find<AuditEntry>(AUDIT, { action: { $in: ['contact.log', NOT_AT_RISK_ACTION] } });
  for (const e of entries) {
    if (e.outcome !== 'ok' || !e.customerId) continue;
    const list = byCustomer.get(e.customerId);
    const alert = list?.filter((a) => a.at <= e.at).pop();
    if (!alert) continue;
    alert.feedback.push(e.action === NOT_AT_RISK_ACTION ? 'not_at_risk' : String(e.detail.outcome));
  }
  const rows = new Map<string, DetectorBucket>();
  for (const list of byCustomer.values()) {
    for (const a of list) {
      for (const detector of a.rules) {
        const bucket = bucketOf(a.at, range.bucket);
        const k = `${detector}|${bucket}`;
        let r = rows.get(k);
        if (!r) rows.set(k, (r = { detector, bucket, alertsSent: 0, notAtRisk: 0, wonBack: 0, lost: 0, otherOutcomes: 0, noOutcome: 0, confirmed: 0, rejected: 0, precision: null }));
        r.alertsSent++;
        if (a.feedback.length === 0) r.noOutcome++;
        for (const f of a.feedback) {
          if (f === 'not_at_risk') r.notAtRisk++;
          else if (f === 'won_back') r.wonBack++;
          else if (f === 'lost') r.lost++;
          else r.otherOutcomes++;
        }
      }
    }
  }
  const out = [...rows.values()].sort((x, y) => (x.detector < y.detector ? -1 : x.detector > y.detector ? 1 : x.bucket < y.bucket ? -1 : 1));
  for (const r of out) {
    r.confirmed = r.wonBack + r.lost;
    r.rejected = r.notAtRisk;
    r.precision = r.confirmed + r.rejected > 0 ? r.confirmed / (r.confirmed + r.rejected) : null;
  }
  return out;
}
