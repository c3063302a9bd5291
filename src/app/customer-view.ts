// The API's representation of a customer (GET /api/v1/customers/:id, README "HTTP API").
import { reasonText } from '../../cards/common.ts';
import type { Locale } from '../../cards/model.ts';
import type { CustomerRecord, HistoryEntry } from '../ports/store.ts';

/** `locale` adds each risk reason as the sentence a card shows (`text`), numbers included. */
export function customerView(c: CustomerRecord, history?: HistoryEntry[], locale?: Locale) {
  const s = c.state;
  return {
    id: c.id,
    name: c.name,
    ownerId: c.ownerId,
    teamId: c.teamId,
    attributes: c.attributes,
    tags: c.tags,
    tier: s ? { key: s.tier, name: s.tierName, rank: s.tierRank, since: s.since, previous: s.previous } : null,
    metrics: s ? s.metrics : null,
    lifecycle: s ? s.lifecycle : null,
    risk: s ? (locale ? { level: s.risk.level, reasons: s.risk.reasons.map((r) => ({ ...r, text: reasonText(locale, r) })) } : s.risk) : null,
    explanation: s ? s.explanation : null,
    score: c.score,
    policyVersion: s ? s.policyVersion : null,
    evaluatedAt: s ? s.evaluatedAt : null,
    ...(history ? { history: history.map((h) => ({ from: h.from, to: h.to, at: h.at, runId: h.runId })) } : {}),
  };
}
