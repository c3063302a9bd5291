// Shared setup for the WeCom platform tests: the fake, the module pointed at it, a recording sink, cards.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import type { Card } from '../../../cards/model.ts';
import { loadEnv } from '../../../src/config/env.ts';
import { createLogger } from '../../../src/logger.ts';
import type { ActionReply, InboundAction, InboundMessage, InboundSink } from '../../../src/ports/messenger.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { createWecomPlatform, type WecomPlatformModule } from '../../../src/platforms/wecom/index.ts';
import { wecomProfile, wecomRobotProfile } from '../../../src/platforms/wecom/profile.ts';
import { FakeWecom, type FakeWecomOptions } from '../../fakes/wecom.ts';

export const CONF = {
  corpId: 'ww7a1e5c0ffee0b0t1',
  secret: 'fake-corp-secret-for-tests',
  agentId: 1000002,
  token: 'TierbotCallbackToken42',
  encodingAesKey: Buffer.alloc(32, 0x5a).toString('base64').replace(/=+$/, ''),
} as const;

/** "A minute" takes 600 ms in these tests (WeCom's counts unchanged). */
export const TIME_SCALE = 0.01;

export class RecordingSink implements InboundSink {
  readonly actions: InboundAction[] = [];
  readonly messages: InboundMessage[] = [];
  reply: (a: InboundAction) => ActionReply | Promise<ActionReply> = () => ({});

  async handleAction(event: InboundAction): Promise<ActionReply> {
    this.actions.push(event);
    return this.reply(event);
  }

  async handleMessage(event: InboundMessage): Promise<void> {
    this.messages.push(event);
  }
}

export interface Harness {
  fake: FakeWecom;
  sink: RecordingSink;
  wecom: WecomPlatformModule;
  /** the receiver's URL: http://127.0.0.1:port/webhooks/wecom */
  callbackUrl: string;
  /** a second tierbot process on the same app and fake (its own token cache and state), e.g. after a restart */
  anotherProcess(): WecomPlatformModule;
  close(): Promise<void>;
}

export async function startHarness(
  opts: { fake?: Partial<FakeWecomOptions>; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Harness> {
  const fake = new FakeWecom({
    ...CONF,
    users: ['LiSi', 'wangwu', 'zhangsan', 'nolicense'],
    unlicensed: ['nolicense'],
    chats: ['chat-sales-east'],
    robotKeys: ['robot-key-0001'],
    timeScale: TIME_SCALE,
    ...opts.fake,
  });
  await fake.start();
  const env = loadEnv({
    LOG_LEVEL: 'silent',
    WECOM_CORP_ID: CONF.corpId,
    WECOM_AGENT_ID: String(CONF.agentId),
    WECOM_SECRET: CONF.secret,
    WECOM_TOKEN: CONF.token,
    WECOM_ENCODING_AES_KEY: CONF.encodingAesKey,
    WECOM_API_BASE: fake.url,
    PLATFORM_TIMEOUT_MS: String(opts.timeoutMs ?? 2000),
    ...opts.env,
  });
  const sink = new RecordingSink();
  const platform = () =>
    createWecomPlatform(
      { env, sink, clock: systemClock, log: createLogger('silent') },
      { profile: wecomProfile({ timeScale: TIME_SCALE }), robotProfile: wecomRobotProfile({ timeScale: TIME_SCALE }) },
    );
  const wecom = platform();
  const app = new Koa().use(wecom.routes!.routes());
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/wecom`;
  return {
    fake,
    sink,
    wecom,
    callbackUrl,
    anotherProcess: platform,
    async close() {
      await wecom.idle();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await fake.close();
    },
  };
}

export async function waitFor<T>(probe: () => T | undefined | null | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---------------------------------------------------------------------------------------------
// Cards (hand-made neutral cards; the renderer is tested elsewhere)

const URL_BASE = 'https://tierbot.example.com';

export function approvalCard(ref: string, closed?: string): Card {
  return {
    kind: 'approval_request',
    locale: 'zh-CN',
    title: '评分待审批',
    subtitle: 'ACME 公司 · 销售 张三',
    tone: 'info',
    summary: 'ACME 评分待审批',
    blocks: [{ type: 'fields', fields: [{ label: '当前等级', value: 'B' }, { label: '建议等级', value: 'A' }] }],
    actions: [
      { type: 'callback', key: 'score.approve', label: '通过', style: 'primary', ref },
      {
        type: 'callback',
        key: 'score.reject',
        label: '驳回',
        style: 'danger',
        ref,
        needsReason: { label: '驳回原因', placeholder: '', presets: [{ value: 'too_high', label: '分数过高' }, { value: 'no_evidence', label: '缺少依据' }] },
      },
    ],
    ...(closed ? { closed: { text: closed } } : {}),
    url: `${URL_BASE}/customers/c-001`,
  };
}

export function scoreFormCard(ref: string): Card {
  return {
    kind: 'score_form',
    locale: 'zh-CN',
    title: 'ACME 手动评分',
    tone: 'info',
    summary: 'ACME 手动评分',
    blocks: [],
    actions: [],
    form: {
      name: 'score',
      fields: [
        { name: 'profitability', label: '盈利能力', kind: 'points', required: true, initial: 60 },
        { name: 'strength', label: '合作强度', kind: 'points', required: true },
      ],
      submit: { type: 'callback', key: 'score.submit', label: '提交评分', style: 'primary', ref },
      commandExample: '评分 c-001 profitability=90 strength=80',
    },
    url: `${URL_BASE}/customers/c-001`,
  };
}

/** A display-only card (text_notice); `title` makes each one distinguishable at the fake. */
export function noticeCard(title: string): Card {
  return {
    kind: 'churn_alert',
    locale: 'zh-CN',
    title,
    subtitle: 'ACME 公司',
    tone: 'warning',
    summary: title,
    blocks: [{ type: 'fields', fields: [{ label: '流失概率', value: '87%' }, { label: '最近下单', value: '63 天前' }] }],
    actions: [{ type: 'link', key: 'console.open', label: '查看客户', url: `${URL_BASE}/customers/c-001` }],
    url: `${URL_BASE}/customers/c-001`,
  };
}

export function digestCard(): Card {
  return {
    kind: 'daily_digest',
    locale: 'zh-CN',
    title: '华东销售组 · 每日摘要',
    subtitle: '2026-11-20',
    tone: 'info',
    summary: '每日摘要',
    blocks: [
      { type: 'table', title: '风险客户', columns: ['#', '客户', '等级', '风险'], rows: [['1', 'ACME', 'A', '高'], ['2', 'Globex', 'B', '中']] },
      { type: 'list', title: '等级变动', items: ['Initech B → A'] },
    ],
    actions: [{ type: 'link', key: 'console.open', label: '在控制台打开', url: `${URL_BASE}/teams/east` }],
    url: `${URL_BASE}/teams/east`,
  };
}
