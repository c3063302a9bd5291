// What a newcomer sees after `npm start`: the demo store is seeded and recomputed once. No rep's inbox may hold
// more than the daily budget of individual cards plus one summary, and every at-risk customer of the rep is
// accounted for (a card, or a row or count of the summary). Managers get one team summary each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { seedDemo } from '../../src/app/demo.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { inbox } from '../workflows/helpers.ts';

const MORNING = '2026-06-30T10:00:00+08:00';

describe('the embedded demo after start', () => {
  let app: TestApp;
  let budget: number;
  beforeAll(async () => {
    app = await startApp(new MemoryStore(), { clock: fixedClock(MORNING) });
    const files = app.bot.files;
    budget = files.schedule.alerts.maxCardsPerDay;
    expect(await seedDemo(app.bot.store, files.demoOrg!, app.bot.clock.now())).toBe(true);
    await app.bot.recomputer.start().done;
    await app.bot.chat.settle();
  });
  afterAll(async () => app?.close());

  it('gives each rep at most the budget of cards plus one summary that accounts for all their at-risk customers', async () => {
    const org = (await app.api('/api/v1/org')).body;
    const reps = org.users.filter((u: { role: string }) => u.role === 'rep');
    let atRiskSeen = 0;
    for (const rep of reps) {
      const items = await inbox(app, rep.id);
      const cards = items.filter((i) => i.card.kind === 'churn_alert' || i.card.kind === 'tier_change');
      const summaries = items.filter((i) => i.card.kind === 'alert_summary');
      expect(cards.length, rep.id).toBeLessThanOrEqual(budget);
      expect(summaries.length, rep.id).toBeLessThanOrEqual(1);
      expect(items.length, rep.id).toBe(cards.length + summaries.length);

      const atRisk = (await app.api(`/api/v1/reports/at-risk?ownerId=${rep.id}&limit=1000`)).body;
      atRiskSeen += atRisk.total;
      if (atRisk.total === 0) continue;
      const [summary] = summaries;
      expect(summary, `${rep.id} has ${atRisk.total} at risk`).toBeDefined();
      const table = summary.card.blocks.find((b) => b.type === 'table') as { rows: string[][]; total?: number };
      const shown = table.rows.map((r) => r[1]);
      const total = table.total ?? table.rows.length;
      // a baseline: every at-risk customer is in the summary, the most valuable on its rows
      expect(total + cards.filter((c) => c.card.kind === 'churn_alert').length).toBe(atRisk.total);
      const byValue = [...atRisk.items].sort((a, b) => b.valueAtStake - a.valueAtStake).map((r: { name: string }) => r.name);
      for (const name of shown) expect(byValue).toContain(name);
      const numbers = (summary.card.blocks.find((b) => b.type === 'fields') as { fields: { value: string }[] }).fields.slice(0, 3).map((f) => Number(f.value.replace(/,/g, '')));
      expect(numbers.reduce((a, b) => a + b, 0)).toBe(atRisk.total);
    }
    expect(atRiskSeen).toBeGreaterThan(budget); // the demo has enough risk to need a budget
  });

  it('gives each manager one team summary and no copies of their reps cards', async () => {
    for (const manager of ['u-li', 'u-zhao']) {
      const items = await inbox(app, manager);
      expect(items.filter((i) => i.card.kind === 'alert_summary')).toHaveLength(1);
      expect(items.filter((i) => i.card.kind === 'churn_alert')).toHaveLength(0);
    }
  });
});
