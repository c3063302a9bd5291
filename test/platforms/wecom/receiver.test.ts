// The WeCom callback receiver over real HTTP: the fake acts as WeCom (encrypts and signs with @wecom/crypto).
import { afterEach, describe, expect, it } from 'vitest';
import { formValues, toInboundEvent, selectedValues } from '../../../src/platforms/wecom/receiver.ts';
import type { WecomInbound } from '../../../src/platforms/wecom/crypto.ts';
import { parseWecomXml } from '../../../src/platforms/wecom/xml.ts';
import { fixtureText } from '../fixtures.ts';
import { approvalCard, CONF, type Harness, scoreFormCard, startHarness, waitFor } from './harness.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Sends an approval card to LiSi and returns what a click needs. */
async function sentApproval(ref: string) {
  const sent = await h.wecom.messenger.send({ platform: 'wecom', kind: 'user', id: 'LiSi' }, approvalCard(ref), `approval|LiSi|${ref}`);
  const tc = h.fake.delivered.at(-1)!.body.template_card;
  const key = (k: string) => tc.button_list.find((b: { key: string }) => b.key.startsWith(`${k}|`)).key as string;
  return { sent, taskId: tc.task_id as string, approveKey: key('score.approve'), rejectKey: key('score.reject') };
}

describe('WeCom receiver: URL verification (GET)', () => {
  it('answers the decrypted echostr as plain text, and 401 on a bad signature', async () => {
    h = await startHarness();
    const ok = await h.fake.verifyUrl(h.callbackUrl, '1616140317555161061');
    expect(ok).toEqual({ status: 200, text: '1616140317555161061' });
    const q = new URLSearchParams({ msg_signature: '0'.repeat(40), timestamp: '1409659589', nonce: '1', echostr: 'abcd' });
    expect((await fetch(`${h.callbackUrl}?${q}`)).status).toBe(401);
  });
});

describe('WeCom receiver: card clicks and commands', () => {
  it('a click (reject with a preset reason) reaches the sink normalised; the answer is an empty 200 at once; the card is updated with the click\'s ResponseCode', async () => {
    h = await startHarness();
    const { taskId, rejectKey } = await sentApproval('refA');
    h.sink.reply = () => ({ card: approvalCard('refA', '已驳回'), toast: { kind: 'success', text: '已驳回' } });
    const xml = h.fake.clickXml({ user: 'LiSi', taskId, key: rejectKey, choose: { 'sel:score.reject': 'too_high' } });
    const res = await h.fake.postCallback(h.callbackUrl, xml);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.ms).toBeLessThan(5000); // WeCom's deadline; the answer does not wait for the sink (next tests)

    const action = await waitFor(() => h.sink.actions[0]);
    expect(action).toMatchObject({
      type: 'action',
      platform: 'wecom',
      actor: { platform: 'wecom', platformUserId: 'LiSi' },
      action: 'score.reject',
      ref: 'refA',
      option: 'too_high',
      values: {},
      message: { platform: 'wecom', messageId: taskId, meta: { taskId } },
    });
    expect(action.eventId).toMatch(/^evt:[0-9a-f]{32}$/);
    const clickCode = action.message!.meta!.responseCode;
    expect(clickCode).toMatch(/^rc-click-/);

    const update = await waitFor(() => h.fake.updates[0]);
    expect(update.responseCode).toBe(clickCode);
    expect(update.body.userids).toEqual(['LiSi']);
    expect(update.body.template_card).toMatchObject({ task_id: taskId, replace_text: '已驳回' });
    await h.wecom.idle();
    expect(h.fake.delivered.filter((d) => d.msgtype === 'text')).toHaveLength(0); // success toasts are not sent
    expect(h.fake.problems).toEqual([]);

    // WeCom re-delivers the same event: same eventId (the core dedupes on it)
    await h.fake.postCallback(h.callbackUrl, xml);
    const again = await waitFor(() => h.sink.actions[1]);
    expect(again.eventId).toBe(action.eventId);
  });

  it('an error toast becomes a short text message to the clicker', async () => {
    h = await startHarness();
    const { taskId, approveKey } = await sentApproval('refB');
    h.sink.reply = () => ({ toast: { kind: 'error', text: '已被 王五 审批' } });
    const res = await h.fake.postCallback(h.callbackUrl, h.fake.clickXml({ user: 'LiSi', taskId, key: approveKey }));
    expect(res.status).toBe(200);
    const text = await waitFor(() => h.fake.delivered.find((d) => d.msgtype === 'text'));
    expect(text.to).toBe('lisi');
    expect(text.body.text.content).toBe('已被 王五 审批');
    expect(h.sink.actions[0]).toMatchObject({ action: 'score.approve', ref: 'refB', values: {} });
    expect(h.sink.actions[0].option).toBeUndefined();
  });

  it('a score form submit carries every select as a value by question key: touched, untouched (current points) and unscored', async () => {
    h = await startHarness();
    await h.wecom.messenger.send({ platform: 'wecom', kind: 'user', id: 'zhangsan' }, scoreFormCard('refC'), 'form|zhangsan|refC');
    const tc = h.fake.delivered[0].body.template_card;
    // the member sets strength only; profitability (60 now) is left as WeCom preselected it
    const xml = h.fake.clickXml({ user: 'zhangsan', taskId: tc.task_id, key: tc.submit_button.key, choose: { strength: '80' } });
    expect(xml).toContain('<QuestionKey><![CDATA[profitability]]></QuestionKey><OptionIds><OptionId><![CDATA[keep:60]]>');
    expect((await h.fake.postCallback(h.callbackUrl, xml)).status).toBe(200);
    const action = await waitFor(() => h.sink.actions[0]);
    expect(action).toMatchObject({ action: 'score.submit', ref: 'refC', values: { profitability: '60', strength: '80' } });

    // nothing touched: the unscored dimension has no value (the server names it), the scored one keeps 60
    await h.fake.postCallback(h.callbackUrl, h.fake.clickXml({ user: 'zhangsan', taskId: tc.task_id, key: tc.submit_button.key }));
    const untouched = await waitFor(() => h.sink.actions[1]);
    expect(untouched.values).toEqual({ profitability: '60' });
    expect(h.fake.problems).toEqual([]);
  });

  it('a button card\'s selection goes only with the button it belongs to, and "—" is no choice', async () => {
    h = await startHarness();
    const { taskId, approveKey, rejectKey } = await sentApproval('refE');
    const click = async (key: string, choose?: Record<string, string>) => {
      const n = h.sink.actions.length;
      await h.fake.postCallback(h.callbackUrl, h.fake.clickXml({ user: 'LiSi', taskId, key, choose }));
      return waitFor(() => h.sink.actions[n]);
    };
    // approve with a reason chosen in the dropdown: the reason belongs to reject
    const approve = await click(approveKey, { 'sel:score.reject': 'no_evidence' });
    expect(approve).toMatchObject({ action: 'score.approve', values: {} });
    expect(approve.option).toBeUndefined();
    // reject untouched: the dropdown reports "—", which is no reason
    const bare = await click(rejectKey);
    expect(bare).toMatchObject({ action: 'score.reject', values: {} });
    expect(bare.option).toBeUndefined();
    expect((await click(rejectKey, { 'sel:score.reject': 'no_evidence' })).option).toBe('no_evidence');
  });

  it('a text message becomes an InboundMessage with the MsgId as event id', async () => {
    h = await startHarness();
    const res = await h.fake.postCallback(h.callbackUrl, h.fake.textXml({ user: 'LiSi', content: '评分 ACME', msgId: '4561255354251345929' }));
    expect(res).toMatchObject({ status: 200, text: '' });
    const msg = await waitFor(() => h.sink.messages[0]);
    expect(msg).toEqual({
      type: 'message',
      platform: 'wecom',
      eventId: 'msg:4561255354251345929',
      actor: { platform: 'wecom', platformUserId: 'LiSi' },
      text: '评分 ACME',
      chat: { id: 'LiSi', kind: 'p2p' },
    });
  });

  it('answers before a slow sink has finished', async () => {
    h = await startHarness();
    const { taskId, approveKey } = await sentApproval('refD');
    let release!: () => void;
    h.sink.reply = () => new Promise((r) => (release = () => r({}))); // the sink finishes only when we say so
    const res = await h.fake.postCallback(h.callbackUrl, h.fake.clickXml({ user: 'LiSi', taskId, key: approveKey }));
    expect(res).toMatchObject({ status: 200, text: '' });
    expect(h.sink.actions).toHaveLength(1); // handed over, still running
    release();
    await h.wecom.idle();
  });

  it('ignores deliveries for another app, events it does not handle and keys that are not ours (still 200)', async () => {
    h = await startHarness();
    const other = h.fake.textXml({ user: 'LiSi', content: 'hi', msgId: '1' }).replace(`<AgentID>${CONF.agentId}</AgentID>`, '<AgentID>999</AgentID>');
    expect((await h.fake.postCallback(h.callbackUrl, other)).status).toBe(200);
    const enter = `<xml><ToUserName><![CDATA[${CONF.corpId}]]></ToUserName><FromUserName><![CDATA[LiSi]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><AgentID>${CONF.agentId}</AgentID></xml>`;
    expect((await h.fake.postCallback(h.callbackUrl, enter)).status).toBe(200);
    const foreign = h.fake.eventXml({ user: 'LiSi', taskId: 't1', key: 'key111', cardType: 'button_interaction' });
    expect((await h.fake.postCallback(h.callbackUrl, foreign)).status).toBe(200);
    await h.wecom.idle();
    expect(h.sink.actions).toHaveLength(0);
    expect(h.sink.messages).toHaveLength(0);
  });
});

describe('WeCom receiver: refusals', () => {
  it('bad signature 401, stale timestamp 403, malformed body 400, wrong corp id 403, missing parameters 400, too large 413 — sink untouched, next good request served', async () => {
    h = await startHarness();
    const inner = h.fake.textXml({ user: 'LiSi', content: 'help', msgId: '42' });
    const post = (tamper: Parameters<typeof h.fake.postCallback>[2]) => h.fake.postCallback(h.callbackUrl, inner, tamper);

    expect((await post({ signature: 'f'.repeat(40) })).status).toBe(401);
    expect((await post({ timestampMs: Date.now() - 61 * 60_000 })).status).toBe(403);
    expect((await post({ timestampMs: Date.now() + 61 * 60_000 })).status).toBe(403);
    expect((await post({ body: 'not xml <<<' })).status).toBe(400);
    expect((await post({ body: '<xml><ToUserName>x</ToUserName></xml>' })).status).toBe(400);
    expect((await post({ corpId: 'ww_some_other_corp' })).status).toBe(403);
    expect((await fetch(h.callbackUrl, { method: 'POST', body: '<xml/>' })).status).toBe(400);
    expect((await post({ body: `<xml><Encrypt>${'A'.repeat(70_000)}</Encrypt></xml>` })).status).toBe(413);

    await h.wecom.idle();
    expect(h.sink.messages).toHaveLength(0);
    expect(h.sink.actions).toHaveLength(0);

    expect((await h.fake.postCallback(h.callbackUrl, inner)).status).toBe(200);
    expect((await waitFor(() => h.sink.messages[0])).text).toBe('help');
  });
});

describe('WeCom receiver: normalisation (unit)', () => {
  const inbound = (fields: Record<string, any>): WecomInbound => ({
    kind: 'event',
    eventId: 'evt:x',
    msgType: 'event',
    event: fields.Event,
    fromUser: fields.FromUserName,
    createTime: '1',
    agentId: '1',
    fields,
  });

  it('reads the documented template_card_event example (several options of one question)', () => {
    const fields = parseWecomXml(fixtureText('wecom', 'template-card-event.xml'));
    expect(selectedValues(fields)).toEqual({ QuestionKey1: 'OptionId1,OptionId2' });
    // its EventKey "key111" is not one of our keys: ignored
    expect(toInboundEvent(inbound(fields), 0)).toBeNull();
  });

  it('keeps userids and option ids as strings (no number coercion)', () => {
    const fields = parseWecomXml(
      '<xml><FromUserName><![CDATA[00123]]></FromUserName><MsgType>event</MsgType><Event>template_card_event</Event>' +
        '<EventKey><![CDATA[contact.log|r1]]></EventKey><TaskId>t</TaskId><CardType>button_interaction</CardType><ResponseCode>c</ResponseCode>' +
        '<SelectedItems><SelectedItem><QuestionKey>sel:contact.log</QuestionKey><OptionIds><OptionId>1e3</OptionId></OptionIds></SelectedItem></SelectedItems></xml>',
    );
    const action = toInboundEvent(inbound(fields), 5);
    expect(action).toMatchObject({ actor: { platformUserId: '00123' }, action: 'contact.log', ref: 'r1', option: '1e3', values: {} });
  });
});

describe('WeCom receiver: form values (unit)', () => {
  it('keep:<points> is the current points, "not scored" is no value, anything else as chosen', () => {
    expect(formValues({ profitability: 'keep:85', strength: '_none', extra: '70' })).toEqual({ profitability: '85', extra: '70' });
  });
});
