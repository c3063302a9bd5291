// The WeCom messenger against the fake: shapes of what arrives, updates in place, and the failure paths.
import { afterEach, describe, expect, it } from 'vitest';
import type { Recipient } from '../../../src/ports/messenger.ts';
import { DeliveryFailure } from '../../../src/platforms/shared/outbound.ts';
import { DUPLICATE_CHECK_S, sendTaskId } from '../../../src/platforms/wecom/messenger.ts';
import { decodeKey } from '../../../src/platforms/wecom/render.ts';
import { approvalCard, digestCard, type Harness, noticeCard, scoreFormCard, startHarness, TIME_SCALE } from './harness.ts';

const user = (id: string): Recipient => ({ platform: 'wecom', kind: 'user', id });
let h: Harness;

afterEach(async () => {
  await h?.close();
});

async function failure(p: Promise<unknown>): Promise<DeliveryFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryFailure);
  return err as DeliveryFailure;
}

describe('WeCom messenger: sending', () => {
  it('sends an approval card to a member as a button_interaction template_card', async () => {
    h = await startHarness();
    const sent = await h.wecom.messenger.send(user('LiSi'), approvalCard('ref1'), 'approval_request|wecom:user:LiSi|req-1|p1');
    expect(h.fake.problems).toEqual([]);
    const [d] = h.fake.delivered;
    expect(d).toMatchObject({ via: 'app', to: 'lisi', msgtype: 'template_card' });
    const body = d.body;
    expect(body).toMatchObject({ touser: 'LiSi', agentid: 1000002, enable_duplicate_check: 1, duplicate_check_interval: 4 * 3600 });
    const tc = body.template_card;
    expect(tc.card_type).toBe('button_interaction');
    expect(tc.task_id).toMatch(/^tb-ar-ref1-[A-Za-z0-9_-]{16}$/);
    expect(tc.button_list.map((b: { key: string }) => decodeKey(b.key))).toEqual([
      { k: 'score.approve', r: 'ref1' },
      { k: 'score.reject', r: 'ref1' },
    ]);
    // the reason dropdown belongs to reject and starts with a preselected neutral "—" (WeCom preselects the first option)
    expect(tc.button_selection).toMatchObject({ question_key: 'sel:score.reject', selected_id: '_none' });
    expect(tc.button_selection.option_list).toEqual([
      { id: '_none', text: '—' },
      { id: 'too_high', text: '分数过高' },
      { id: 'no_evidence', text: '缺少依据' },
    ]);
    // what the outbox stores: enough to update later
    expect(sent).toMatchObject({ platform: 'wecom', messageId: tc.task_id, meta: { kind: 'user', taskId: tc.task_id, msgid: d.msgid } });
    expect(sent.meta!.responseCode).toMatch(/^rc-send-/);
  });

  it('gives every send of the same card instance its own task_id (several managers), deterministic per key', async () => {
    h = await startHarness();
    const a = await h.wecom.messenger.send(user('LiSi'), approvalCard('ref2'), 'k-lisi');
    const b = await h.wecom.messenger.send(user('wangwu'), approvalCard('ref2'), 'k-wangwu');
    expect(h.fake.problems).toEqual([]);
    expect(a.meta!.taskId).not.toBe(b.meta!.taskId);
    expect(sendTaskId('tb-ar-ref2', 'k-lisi')).toBe(a.meta!.taskId);
    expect(Buffer.byteLength(sendTaskId('x'.repeat(128), 'k'))).toBeLessThanOrEqual(128);
  });

  it('sends the score form as a multiple_interaction card', async () => {
    h = await startHarness();
    await h.wecom.messenger.send(user('zhangsan'), scoreFormCard('ref3'), 'k3');
    expect(h.fake.problems).toEqual([]);
    const tc = h.fake.delivered[0].body.template_card;
    expect(tc.card_type).toBe('multiple_interaction');
    expect(tc.select_list.map((s: { question_key: string }) => s.question_key)).toEqual(['profitability', 'strength']);
    // every select names a valid selected_id: its first option, "unchanged (60)" or "not scored"
    expect(tc.select_list.map((s: { selected_id: string }) => s.selected_id)).toEqual(['keep:60', '_none']);
    expect(tc.select_list[0].option_list.map((o: { id: string }) => o.id)).toEqual(['keep:60', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(tc.select_list[0].option_list[0].text).toBe('不变（60）');
    expect(tc.select_list[1].option_list[0]).toEqual({ id: '_none', text: '未评分' });
    expect(decodeKey(tc.submit_button.key)).toEqual({ k: 'score.submit', r: 'ref3' });
  });

  it('sends a team-chat card through appchat/send as markdown and a digest through the group robot', async () => {
    h = await startHarness();
    const chat = await h.wecom.messenger.send({ platform: 'wecom', kind: 'chat', id: 'chat-sales-east' }, digestCard(), 'digest|chat|2026-11-20');
    const robot = await h.wecom.messenger.send({ platform: 'wecom', kind: 'robot', id: 'robot-key-0001' }, digestCard(), 'digest|robot|2026-11-20');
    expect(h.fake.problems).toEqual([]);
    const [c, r] = h.fake.delivered;
    expect(c).toMatchObject({ via: 'appchat', to: 'chat-sales-east', msgtype: 'markdown' });
    expect(c.body.chatid).toBe('chat-sales-east');
    expect(c.body.markdown.content).toContain('华东销售组');
    expect(Buffer.byteLength(c.body.markdown.content)).toBeLessThanOrEqual(2048);
    expect(r).toMatchObject({ via: 'robot', to: 'robot-key-0001', msgtype: 'markdown' });
    expect(r.body.markdown.content).toContain('[在控制台打开](https://tierbot.example.com/teams/east)');
    // no list syntax in WeCom's markdown: list items are "· item" lines
    expect(r.body.markdown.content).toContain('\n· Initech B → A\n');
    expect(r.body.markdown.content).not.toMatch(/^- /m);
    expect(chat.meta!.kind).toBe('chat');
    expect(robot.meta!.kind).toBe('robot');
    // neither can be updated in place
    expect((await failure(h.wecom.messenger.update(robot, digestCard(), { platform: 'wecom', kind: 'robot', id: 'robot-key-0001' }))).retryable).toBe(false);
  });

  it('an unknown robot key is a permanent failure that does not leak the key', async () => {
    h = await startHarness();
    const f = await failure(h.wecom.messenger.send({ platform: 'wecom', kind: 'robot', id: 'secret-robot-key' }, digestCard(), 'k'));
    expect(f.retryable).toBe(false);
    expect(f.message).toContain('93000');
    expect(f.message).not.toContain('secret-robot-key');
  });
});

describe('WeCom messenger: updating in place', () => {
  it('updates a sent card with the response_code of the send, keeping its task_id, for that member only', async () => {
    h = await startHarness();
    const to = user('LiSi');
    const sent = await h.wecom.messenger.send(to, approvalCard('ref4'), 'k4');
    await h.wecom.messenger.update(sent, approvalCard('ref4', '已通过'), to);
    expect(h.fake.problems).toEqual([]);
    const [u] = h.fake.updates;
    expect(u.responseCode).toBe(sent.meta!.responseCode);
    expect(u.body).toMatchObject({ userids: ['LiSi'], agentid: 1000002 });
    expect(u.body.template_card).toMatchObject({ card_type: 'button_interaction', task_id: sent.meta!.taskId, replace_text: '已通过' });
  });

  it('uses a click\'s fresh ResponseCode once the send\'s is spent, and says so when none is left', async () => {
    h = await startHarness();
    const to = user('LiSi');
    const sent = await h.wecom.messenger.send(to, approvalCard('ref5'), 'k5');
    await h.wecom.messenger.update(sent, approvalCard('ref5', '处理中'), to);
    // the same SentMessage again: the send's code is used up and nothing else is known
    const none = await failure(h.wecom.messenger.update(sent, approvalCard('ref5', '已通过'), to));
    expect(none.retryable).toBe(false);
    expect(none.message).toMatch(/no unused response_code/);
    // a click brings a new code (the receiver remembers it); the next update takes it
    const clickCode = h.fake.issueClickCode(sent.meta!.taskId, 'LiSi');
    h.wecom.messenger.rememberClick(sent.meta!.taskId, clickCode);
    await h.wecom.messenger.update(sent, approvalCard('ref5', '已通过'), to);
    expect(h.fake.updates.map((u) => u.responseCode)).toEqual([sent.meta!.responseCode, clickCode]);
    expect(h.fake.problems).toEqual([]);
  });

  it('a display-only card has no task_id and cannot be updated', async () => {
    h = await startHarness();
    const sent = await h.wecom.messenger.send(user('LiSi'), noticeCard('churn #1'), 'k6');
    expect(h.fake.delivered[0].body.template_card.card_type).toBe('text_notice');
    expect(sent.meta!.taskId).toBeUndefined();
    const f = await failure(h.wecom.messenger.update(sent, noticeCard('churn #1 (done)'), user('LiSi')));
    expect(f.retryable).toBe(false);
  });
});

describe('WeCom messenger: failures', () => {
  it('a member outside the visible range (81013) or without a license gives up with a clear error', async () => {
    h = await startHarness();
    const unknown = await failure(h.wecom.messenger.send(user('nobody'), noticeCard('x'), 'k7'));
    expect(unknown.retryable).toBe(false);
    expect(unknown.message).toMatch(/81013.*visible range/);
    const unlicensed = await failure(h.wecom.messenger.send(user('nolicense'), noticeCard('y'), 'k8'));
    expect(unlicensed.retryable).toBe(false);
    expect(unlicensed.message).toMatch(/unlicenseduser "nolicense"/);
  });

  it('refreshes an expired token once and goes on', async () => {
    h = await startHarness();
    await h.wecom.messenger.send(user('LiSi'), noticeCard('a'), 'ka');
    h.fake.expireToken();
    await h.wecom.messenger.send(user('LiSi'), noticeCard('b'), 'kb');
    expect(h.fake.tokenCalls).toBe(2);
    expect(h.fake.delivered.map((d) => d.body.template_card.main_title.title)).toEqual(['a', 'b']);
    expect(h.fake.calls.filter((c) => c.errcode === 42001)).toHaveLength(1);
  });

  it('a bad secret (40001) gives up and does not ask gettoken again for a while (IP ban protection)', async () => {
    h = await startHarness({ env: { WECOM_SECRET: 'wrong-secret' } });
    for (let i = 0; i < 5; i++) {
      const f = await failure(h.wecom.messenger.send(user('LiSi'), noticeCard(`t${i}`), `kt${i}`));
      expect(f.retryable).toBe(false);
      expect(f.message).toMatch(/40001/);
    }
    expect(h.fake.tokenCalls).toBe(1);
  });

  it('rate-limit codes and 5xx are retryable; 45009 asks to wait at least the block window', async () => {
    h = await startHarness();
    h.fake.fault = (c) => (c.api === 'message/send' ? (c.n === 1 ? { errcode: 45009 } : c.n === 2 ? { status: 502 } : { errcode: -1 }) : undefined);
    const f1 = await failure(h.wecom.messenger.send(user('LiSi'), noticeCard('r'), 'kr'));
    expect(f1.retryable).toBe(true);
    expect(f1.retryAfterMs).toBeGreaterThanOrEqual(600); // a scaled minute
    expect((await failure(h.wecom.messenger.send(user('LiSi'), noticeCard('r'), 'kr'))).retryable).toBe(true);
    expect((await failure(h.wecom.messenger.send(user('LiSi'), noticeCard('r'), 'kr'))).retryable).toBe(true);
    expect(h.fake.delivered).toHaveLength(0);
  });

  it('a timed-out send that WeCom did deliver is not delivered twice on retry (duplicate check)', async () => {
    h = await startHarness({ timeoutMs: 300 });
    h.fake.fault = (c) => (c.api === 'message/send' && c.n === 1 ? { hang: true, after: true } : undefined);
    const started = Date.now();
    const f = await failure(h.wecom.messenger.send(user('LiSi'), noticeCard('once'), 'k-once'));
    expect(f.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000); // PLATFORM_TIMEOUT_MS = 300
    await h.wecom.messenger.send(user('LiSi'), noticeCard('once'), 'k-once');
    expect(h.fake.deliveredTo('LiSi')).toHaveLength(1);
  });

  it('a send WeCom accepted just before the process died is sent again after the restart and reaches the member once', async () => {
    h = await startHarness();
    // the first process: WeCom takes both cards, then the process dies before the outbox records them
    const first = h.wecom.messenger;
    await first.send(user('LiSi'), noticeCard('crash'), 'k-crash-notice');
    await first.send(user('LiSi'), approvalCard('refCrash'), 'k-crash-approval');
    // the restarted process (new token, nothing in memory) finds them unsent and sends them again
    const second = h.anotherProcess().messenger;
    const notice = await second.send(user('LiSi'), noticeCard('crash'), 'k-crash-notice');
    const approval = await second.send(user('LiSi'), approvalCard('refCrash'), 'k-crash-approval');
    expect(h.fake.tokenCalls).toBe(2);
    expect(h.fake.deliveredTo('LiSi').map((d) => d.body.template_card.card_type)).toEqual(['text_notice', 'button_interaction']);
    // both count as sent, with the first delivery's msgid; the approval card keeps its task_id for updates
    expect(notice.meta!.msgid).toBe(h.fake.deliveredTo('LiSi')[0].msgid);
    expect(approval.meta!.taskId).toBe(sendTaskId('tb-ar-refCrash', 'k-crash-approval'));
    expect(h.fake.problems).toEqual([]);
  });

  it('click feedback text uses a one-minute duplicate check: a double tap gives one text, a later click another', async () => {
    h = await startHarness();
    expect(DUPLICATE_CHECK_S).toEqual({ template_card: 14_400, markdown: 14_400, text: 60 });
    await h.wecom.messenger.notify('LiSi', '卡片已过期');
    await h.wecom.messenger.notify('LiSi', '卡片已过期');
    expect(h.fake.deliveredTo('LiSi')).toHaveLength(1);
    expect(h.fake.deliveredTo('LiSi')[0].body).toMatchObject({ msgtype: 'text', enable_duplicate_check: 1, duplicate_check_interval: 60 });
    await new Promise((r) => setTimeout(r, 60 * 1000 * TIME_SCALE + 100)); // a (scaled) minute later
    await h.wecom.messenger.notify('LiSi', '卡片已过期');
    expect(h.fake.deliveredTo('LiSi')).toHaveLength(2);
    expect(h.fake.problems).toEqual([]);
  });

  it('an interactive send whose answer was lost counts as sent when WeCom says its task_id exists (42014)', async () => {
    h = await startHarness();
    // the first attempt is delivered but answered 500; the retry differs from WeCom's view only by time
    h.fake.fault = (c) => (c.api === 'message/send' && c.n === 1 ? { status: 500, after: true } : c.api === 'message/send' && c.n === 2 ? { errcode: 42014, errmsg: 'taskid has existed' } : undefined);
    expect((await failure(h.wecom.messenger.send(user('LiSi'), approvalCard('ref9'), 'k9'))).retryable).toBe(true);
    const sent = await h.wecom.messenger.send(user('LiSi'), approvalCard('ref9'), 'k9');
    expect(sent.meta!.taskId).toBe(sendTaskId('tb-ar-ref9', 'k9'));
    expect(h.fake.deliveredTo('LiSi')).toHaveLength(1);
  });
});

describe('fitMarkdown', () => {
  it('drops whole lines before the link instead of cutting a tag', async () => {
    const { fitMarkdown } = await import('../../../src/platforms/wecom/messenger.ts');
    const lines = ['**title**', ...Array.from({ length: 200 }, (_, i) => `> 客户 ${i}：<font color="warning">高</font>`), '[打开](https://x.example/t)'];
    const out = fitMarkdown(lines.join('\n'), 2048);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(2048);
    expect(out.startsWith('**title**\n')).toBe(true);
    expect(out.endsWith('\n…\n[打开](https://x.example/t)')).toBe(true);
    expect(out.split('\n').every((l) => !l.includes('<font') || l.endsWith('</font>'))).toBe(true);
    expect(fitMarkdown('short', 2048)).toBe('short');
  });
});
