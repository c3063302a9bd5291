// The core user story through the console messenger (the same Bot handlers the platforms use):
// a rep scores a customer, managers get approval cards, one decides, cards update in place,
// the submitter is told, the customer is re-evaluated. Then the authorization and race rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyDecided } from '../../src/app/workflows/scoring.ts';
import { hasMongo } from '../setup/mongo.ts';
import { fixedClock, makeTestStore, startApp, type StoreKind, type TestApp } from '../helpers/app.ts';
import { click, command, inbox, ORG, seed, type InboxItem } from './helpers.ts';

const AS_OF = '2026-06-30T02:00:00+08:00';
const DAY = 86_400_000;

const kinds = (items: InboxItem[]) => items.map((i) => i.card.kind);

for (const kind of ['memory', 'mongo'] as StoreKind[]) {
  describe.skipIf(kind === 'mongo' && !hasMongo)(`scoring with approval (${kind} store)`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(makeTestStore(kind, 'scoring'), { clock: fixedClock(AS_OF) });
      await seed(app);
    });
    afterAll(async () => app?.close());

    it('runs the whole flow: form, submit, approval cards, decision, in-place updates, result, re-evaluation', async () => {
      await command(app, 'u-zhang', '评分 鼎盛');
      const [form] = await inbox(app, 'u-zhang');
      expect(form.card.kind).toBe('score_form');
      expect(form.card.form!.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['profitability', 'strength', 'comment']));

      const bad = await click(app, 'u-zhang', form, 'score.submit', { profitability: '101', strength: 'abc' });
      expect(bad.toast?.kind).toBe('warning');
      expect(bad.toast?.text).toContain('盈利状况');
      expect(bad.toast?.text).toContain('经营实力');
      expect((await app.api('/api/v1/scores?customerId=c-a')).body.items).toHaveLength(0);

      const ok = await click(app, 'u-zhang', form, 'score.submit', { profitability: '90', strength: '90', comment: '回款及时' });
      expect(ok.toast?.kind).toBe('success');
      const [request] = (await app.api('/api/v1/scores?customerId=c-a')).body.items;
      expect(request).toMatchObject({ status: 'pending', submittedBy: 'u-zhang', points: { profitability: 90, strength: 90 } });
      // relationship: tenure 633 days → 30, frequency in window 5 → 25: 55; 90·0.4 + 90·0.4 + 55·0.2 = 83
      expect(request.total).toBe(83);

      const liCards = await inbox(app, 'u-li');
      const wangCards = await inbox(app, 'u-wang');
      expect(kinds(liCards)).toEqual(['approval_request']);
      expect(kinds(wangCards)).toEqual(['approval_request']);
      expect(JSON.stringify(liCards[0].card)).toContain('回款及时');

      const approved = await click(app, 'u-li', liCards[0], 'score.approve');
      expect(approved.toast).toMatchObject({ kind: 'success' });

      // both managers' cards were updated in place (same message, now closed), not sent again
      const [liAfter] = await inbox(app, 'u-li');
      const [wangAfter] = await inbox(app, 'u-wang');
      expect(liAfter.id).toBe(liCards[0].id);
      expect(wangAfter.id).toBe(wangCards[0].id);
      expect(wangAfter.card.closed).toBeDefined();
      expect(JSON.stringify(wangAfter.card)).toContain('李经理');

      // the loser is told who decided; nothing changes
      const late = await click(app, 'u-wang', wangCards[0], 'score.reject', { reason: '证据不足' });
      expect(late.toast?.text).toContain('李经理');

      const zhang = await inbox(app, 'u-zhang');
      expect(kinds(zhang)).toContain('approval_result');
      const customer = (await app.api('/api/v1/customers/c-a')).body;
      expect(customer.score).toMatchObject({ points: { profitability: 90, strength: 90 }, approvedBy: 'u-li' });
      expect(customer.metrics.valueScore).toBe(83);

      const audit = (await app.api('/api/v1/audit?customerId=c-a')).body.items;
      expect(audit.map((a: { action: string; outcome: string }) => `${a.action}:${a.outcome}`)).toEqual(
        expect.arrayContaining(['score.submit:ok', 'score.approve:ok', 'score.reject:conflict']),
      );
    });

    it('refuses self-approval, a stranger and a rep of another team; nothing changes, all audited', async () => {
      const submitted = await app.api('/api/v1/scores', { method: 'POST', json: { customerId: 'c-b', points: { profitability: 70, strength: 60 }, comment: '经理自评', submittedBy: 'u-li' } });
      expect(submitted.status).toBe(201);
      const id = submitted.body.requestId;
      for (const who of ['u-li', 'u-zhao', 'u-liu', 'u-chen']) {
        const res = await app.api(`/api/v1/scores/${id}/decision`, { method: 'POST', json: { decidedBy: who, outcome: 'approved' } });
        expect(res.status, who).toBe(403);
      }
      expect((await app.api(`/api/v1/scores?customerId=c-b`)).body.items[0].status).toBe('pending');
      expect((await app.api('/api/v1/customers/c-b')).body.score).toBeNull();
      const refused = (await app.api('/api/v1/audit?customerId=c-b')).body.items.filter((a: { outcome: string }) => a.outcome === 'refused');
      expect(refused.map((a: { actor: string }) => a.actor).sort()).toEqual(['u-chen', 'u-li', 'u-liu', 'u-zhao']);
      // a rep of another team cannot even submit
      const stranger = await app.api('/api/v1/scores', { method: 'POST', json: { customerId: 'c-b', points: { profitability: 10, strength: 10 }, submittedBy: 'u-liu' } });
      expect(stranger.status).toBe(403);
      // the other manager of the team can decide; the wang card shows up in place
      const ok = await app.api(`/api/v1/scores/${id}/decision`, { method: 'POST', json: { decidedBy: 'u-wang', outcome: 'rejected', reason: '缺少依据' } });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ outcome: 'rejected', by: 'u-wang', reason: '缺少依据' });
    });

    it('a newer submission supersedes the pending one and its cards say so', async () => {
      const first = await app.api('/api/v1/scores', { method: 'POST', json: { customerId: 'c-a', points: { profitability: 50, strength: 50 }, submittedBy: 'u-zhang' } });
      const second = await app.api('/api/v1/scores', { method: 'POST', json: { customerId: 'c-a', points: { profitability: 60, strength: 60 }, submittedBy: 'u-zhang' } });
      const items = (await app.api('/api/v1/scores?customerId=c-a')).body.items as { _id: string; status: string }[];
      expect(items.find((i) => i._id === first.body.requestId)!.status).toBe('superseded');
      expect(items.find((i) => i._id === second.body.requestId)!.status).toBe('pending');
      await app.bot.chat.settle();
      const li = await inbox(app, 'u-li');
      const superseded = li.find((i) => JSON.stringify(i.card).includes(first.body.requestId) || (i.card.closed && i.card.kind === 'approval_result'));
      expect(superseded).toBeDefined();
      const late = await app.api(`/api/v1/scores/${first.body.requestId}/decision`, { method: 'POST', json: { decidedBy: 'u-li', outcome: 'approved' } });
      expect(late.status).toBe(409);
    });

    it('two managers deciding at the same instant, 50 times: exactly one decision each time', async () => {
      const { chat } = app.bot;
      const org = ORG as never as { users: { id: string }[] };
      const li = org.users.find((u) => u.id === 'u-li') as never;
      const wang = org.users.find((u) => u.id === 'u-wang') as never;
      const zhang = org.users.find((u) => u.id === 'u-zhang') as never;
      for (let i = 0; i < 50; i++) {
        const request = await chat.scoring.submit({ user: zhang, customerId: 'c-a', values: { profitability: 10 + (i % 9) * 10, strength: 50 }, replyTo: null, platform: 'test' });
        const results = await Promise.allSettled([
          chat.scoring.decide({ user: li, requestId: request._id, outcome: 'approved', platform: 'test' }),
          chat.scoring.decide({ user: wang, requestId: request._id, outcome: 'rejected', reason: 'no', platform: 'test' }),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0].reason).toBeInstanceOf(AlreadyDecided);
        const winner = (won[0] as PromiseFulfilledResult<{ decision: { byName: string } }>).value.decision.byName;
        expect(lost[0].reason.message).toContain(winner);
      }
    }, 120_000);
  });
}
