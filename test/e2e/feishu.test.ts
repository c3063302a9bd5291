// End to end on Feishu: the composed app (createTierbot, memory store) with FEISHU_* pointing at the fake
// Feishu open platform. The test plays Feishu's side of the webhook — encrypted, signed deliveries of
// im.message.receive_v1 and card.action.trigger to POST /webhooks/feishu — and reads what the app sent
// (im/v1/messages create and patch) back out of the fake: the scoring flow from the chat command to the
// decision, the in-place updates, duplicates, a late second manager and a stranger.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { cardActionEnvelope, deliverWebhook, FakeFeishu, messageEnvelope, type FakeMessage } from '../fakes/feishu.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { auditKeys, CUSTOMER, eventually, EXPECTED_TOTAL, expectCleanOutbox, findPayloads, NOW, quiesce, seed, snapshot, type PlatformIds, expectOnlyLateConflict } from './helpers.ts';

const APP_ID = 'cli_e2e0a1b2c3d4e5f6';
const APP_SECRET = 'e2e-app-secret-for-tests';
const ENCRYPT_KEY = 'e2e-encrypt-key-for-tests';
const VERIFICATION_TOKEN = 'e2e-verification-token';
const asFeishu = { appId: APP_ID, verificationToken: VERIFICATION_TOKEN };

const openId = (who: string) => `ou_${who.padEnd(30, '0')}`;
const IDS: PlatformIds = {
  zhang: openId('zhang'),
  chen: openId('chen'),
  li: openId('li'),
  wang: openId('wang'),
  liu: openId('liu'),
  zhao: openId('zhao'),
  eastChat: 'oc_east0000000000000000000000000',
  southChat: 'oc_south000000000000000000000000',
};
const STRANGER = openId('stranger');

const clock = fixedClock(NOW);
let fake: FakeFeishu;
let app: TestApp;
let webhook: string;

/** Delivers like Feishu: encrypted and signed, timestamped by the app's (fixed) clock so the replay window holds. */
const deliver = (payload: object) => deliverWebhook(webhook, payload, { encryptKey: ENCRYPT_KEY, timestampS: Math.floor(clock.now() / 1000) });

const cardJson = (m: FakeMessage) => JSON.stringify(m.card);
const latest = (m: FakeMessage) => m.updates.at(-1) ?? m.card;
const payloadOf = (card: object, k: string) => {
  const p = findPayloads(card).find((x) => x.k === k);
  if (!p) throw new Error(`no ${k} button on ${JSON.stringify(card).slice(0, 300)}`);
  return p;
};
/** Feishu card elements with a given tag, anywhere in the card. */
function elements(card: unknown, tag: string, out: Record<string, any>[] = []): Record<string, any>[] {
  if (Array.isArray(card)) for (const c of card) elements(c, tag, out);
  else if (card && typeof card === 'object') {
    const o = card as Record<string, any>;
    if (o.tag === tag) out.push(o);
    for (const v of Object.values(o)) elements(v, tag, out);
  }
  return out;
}
const isKind = (m: FakeMessage, k: string) => findPayloads(m.card).some((p) => p.k === k);

describe('Feishu end to end: scoring with approval through the composed app', () => {
  let form: FakeMessage;
  let liCard: FakeMessage;
  let wangCard: FakeMessage;
  let approveEnvelope: ReturnType<typeof cardActionEnvelope>;

  beforeAll(async () => {
    fake = await new FakeFeishu({ appId: APP_ID, appSecret: APP_SECRET }).start();
    app = await startApp(new MemoryStore(), {
      clock,
      env: {
        FEISHU_APP_ID: APP_ID,
        FEISHU_APP_SECRET: APP_SECRET,
        FEISHU_ENCRYPT_KEY: ENCRYPT_KEY,
        FEISHU_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
        FEISHU_DOMAIN: fake.url,
        PLATFORM_TIMEOUT_MS: '2000',
      },
    });
    webhook = `${app.url}/webhooks/feishu`;
    await seed(app, 'feishu', IDS);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('1. a rep\'s chat command 评分 <name> gets a score form card to the rep\'s open_id', async () => {
    const res = await deliver(messageEnvelope({ ...asFeishu, openId: IDS.zhang, text: `评分 鼎盛` }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});

    form = await eventually(app, () => fake.messagesTo(IDS.zhang).find((m) => isKind(m, 'score.submit')), 'the score form');
    expect(form.receiveIdType).toBe('open_id');
    expect(cardJson(form)).toContain(CUSTOMER.name);
    const selects = elements(form.card, 'select_static');
    expect(selects.map((s) => s.name)).toEqual(['profitability', 'strength']);
    expect(selects[0].options.map((o: { value: string }) => o.value)).toEqual(['0', '10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(elements(form.card, 'input').map((i) => i.name)).toContain('comment');
    expect(fake.messages).toHaveLength(1); // nobody else was told anything
    expect(fake.invalid).toEqual([]);
  });

  it('2. submitting the form (form_value) is answered inside 3 s and asks both managers', async () => {
    const submit = payloadOf(form.card, 'score.submit');
    const bad = await deliver(cardActionEnvelope({ ...asFeishu, openId: IDS.zhang, value: submit, formValue: { profitability: '101', strength: 'abc' }, messageId: form.messageId }));
    expect(bad.status).toBe(200);
    expect(bad.body.toast.type).toBe('warning');
    expect(bad.body.toast.content).toContain('盈利状况');
    expect((await snapshot(app)).requests).toHaveLength(0);

    const res = await deliver(
      cardActionEnvelope({ ...asFeishu, openId: IDS.zhang, value: submit, formValue: { profitability: '90', strength: '90', comment: '回款及时' }, messageId: form.messageId }),
    );
    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeLessThan(3000);
    expect(res.body).toEqual({ toast: { type: 'success', content: `已提交审批（总分 ${EXPECTED_TOTAL}）` } });

    liCard = await eventually(app, () => fake.messagesTo(IDS.li).find((m) => isKind(m, 'score.approve')), 'li\'s approval request');
    wangCard = await eventually(app, () => fake.messagesTo(IDS.wang).find((m) => isKind(m, 'score.approve')), 'wang\'s approval request');
    for (const card of [liCard, wangCard]) {
      expect(card.receiveIdType).toBe('open_id');
      expect(cardJson(card)).toContain('回款及时');
      expect(cardJson(card)).toContain('张三');
      expect(cardJson(card)).toContain(String(EXPECTED_TOTAL));
      expect(isKind(card, 'score.reject')).toBe(true);
    }
    const s = await snapshot(app);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ status: 'pending', submittedBy: 'u-zhang', points: { profitability: 90, strength: 90 }, total: EXPECTED_TOTAL });
    // the rep's own chat, the chat of the other team and the other rep got nothing
    for (const id of [IDS.chen, IDS.liu, IDS.zhao, IDS.eastChat, IDS.southChat]) expect(fake.messagesTo(id), id).toEqual([]);
  });

  it('3. one manager approves: the other manager\'s card is patched in place, the rep gets the result, the customer changes, the audit has it', async () => {
    const before = (await snapshot(app)).customer;
    expect(before.score).toBeNull();
    expect(before.metrics.valueScore).toBeNull();

    approveEnvelope = cardActionEnvelope({ ...asFeishu, eventId: `evt-${randomBytes(8).toString('hex')}`, openId: IDS.li, value: payloadOf(liCard.card, 'score.approve'), messageId: liCard.messageId });
    const res = await deliver(approveEnvelope);
    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeLessThan(3000);
    expect(res.body.toast).toEqual({ type: 'success', content: '已通过' });

    await eventually(app, () => wangCard.updates.length > 0 && liCard.updates.length > 0, 'both request cards patched');
    const patched = latest(wangCard);
    expect(JSON.stringify(patched)).toContain('李经理');
    expect(findPayloads(patched)).toEqual([]); // closed: no buttons left to click
    expect(findPayloads(latest(liCard))).toEqual([]);
    // patched, not re-sent: still one message each
    expect(fake.messagesTo(IDS.wang)).toHaveLength(1);
    expect(fake.messagesTo(IDS.li)).toHaveLength(1);

    const result = await eventually(app, () => fake.messagesTo(IDS.zhang).find((m) => m !== form && /通过/.test(cardJson(m)) && cardJson(m).includes('李经理')), 'the approval result');
    expect(result.receiveIdType).toBe('open_id');
    expect(cardJson(result)).toContain(String(EXPECTED_TOTAL));

    const s = await snapshot(app);
    expect(s.requests[0].status).toBe('approved');
    expect(s.customer.score).toMatchObject({ points: { profitability: 90, strength: 90 }, approvedBy: 'u-li', submittedBy: 'u-zhang' });
    expect(s.customer.metrics.valueScore).toBe(EXPECTED_TOTAL);
    expect(s.audit).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'score.approve', outcome: 'ok', actor: 'u-li', platform: 'feishu', requestId: s.requests[0]._id })]));
    expectCleanOutbox(s);
    expect(fake.invalid).toEqual([]);
  });

  it('4. the same callback delivered twice is handled once; a second manager clicking later is told who decided', async () => {
    const before = await snapshot(app);
    const counts = () => ({ messages: fake.messages.length, li: liCard.updates.length, wang: wangCard.updates.length });
    const was = counts();

    // Feishu re-delivers the same event (same event_id), twice at once and once more later
    const again = await Promise.all([deliver(approveEnvelope), deliver(approveEnvelope)]);
    const later = await deliver(approveEnvelope);
    for (const r of [...again, later]) {
      expect(r.status).toBe(200);
      expect(r.body.toast.type).toBe('info');
    }
    await quiesce(app);
    expect(counts()).toEqual(was);
    const after = await snapshot(app);
    expect(auditKeys(after)).toEqual(auditKeys(before));
    expect(after.requests).toEqual(before.requests);

    // 王经理 clicks approve on his card as Feishu still showed it: a new event, told who decided, nothing changes
    const late = await deliver(cardActionEnvelope({ ...asFeishu, openId: IDS.wang, value: payloadOf(wangCard.card, 'score.approve'), messageId: wangCard.messageId }));
    expect(late.status).toBe(200);
    expect(late.body.toast.content).toContain('李经理');
    expect(late.body.toast.type).toBe('error');
    await quiesce(app);
    expect(counts()).toEqual(was);
    await expectOnlyLateConflict(app, before);
  });

  it('5. a stranger (open_id not in the org) gets a polite reply and nothing changes', async () => {
    const before = await snapshot(app);
    const sent = fake.messages.length;

    const res = await deliver(messageEnvelope({ ...asFeishu, openId: STRANGER, text: '评分 鼎盛' }));
    expect(res.status).toBe(200);
    const reply = await eventually(app, () => fake.messagesTo(STRANGER)[0], 'the polite reply');
    expect(cardJson(reply)).toContain('不在 tierbot 的组织名单中');
    expect(findPayloads(reply.card)).toEqual([]);

    // a stranger's click on a real card is refused on the card as well
    const click = await deliver(cardActionEnvelope({ ...asFeishu, openId: STRANGER, value: payloadOf(form.card, 'score.submit'), formValue: { profitability: '10', strength: '10' } }));
    expect(click.status).toBe(200);
    expect(click.body.toast).toMatchObject({ type: 'warning' });
    expect(click.body.toast.content).toContain('不在 tierbot 的组织名单中');

    await quiesce(app);
    expect(fake.messages).toHaveLength(sent + 1);
    const after = await snapshot(app);
    expect(after.requests).toEqual(before.requests);
    expect(after.audit).toEqual(before.audit);
    expect(after.customer.score).toEqual(before.customer.score);
    expect(fake.invalid).toEqual([]);
  });
});
