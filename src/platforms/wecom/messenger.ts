// Sends and updates cards on WeCom (docs/platforms/wecom.md, "How tierbot uses WeCom"; official pages under
// https://developer.work.weixin.qq.com/document/path/: 90236 message/send, 94888 update_template_card, 90248
// appchat/send, 91770 group robot). Every API call goes through the shared
// Outbound gate (token cache, per-member limits, refresh-once); failures surface as DeliveryFailure for the outbox.
//
// Where a card goes, by Recipient kind:
// - 'user'  → message/send template_card (interactive cards get a per-send task_id; duplicate check on, as on
//             every message/send, DUPLICATE_CHECK_S).
// - 'chat'  → appchat/send markdown (appchat takes no template_card; the chat is one the app created).
// - 'robot' → group-robot webhook markdown (≤ 4096 bytes, 20/min per robot, no token).
// Only cards sent to a member can be updated in place (update_template_card needs a response_code).
import { createHash } from 'node:crypto';
import { clipBytes } from '../../../cards/format.ts';
import type { Card } from '../../../cards/model.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Messenger, Recipient, SentMessage } from '../../ports/messenger.ts';
import { DeliveryFailure, Outbound, realTimer, TokenCache, type PlatformProfile, type Timer } from '../shared/outbound.ts';
import type { AppMessage, AppMessageContent, GetTokenResult, Reply, WecomClient } from './client.ts';
import { wecomProfile, wecomRobotProfile } from './profile.ts';
import { render, renderMarkdown, WECOM_LIMITS, type WecomTemplateCard } from './render.ts';

/**
 * message/send's duplicate check, in seconds per msgtype. 发送应用消息 (developer.work.weixin.qq.com/document/path/90236):
 * with `enable_duplicate_check: 1`, a message with the same content (the request JSON) sent again within
 * `duplicate_check_interval` ("默认1800s，最大不超过4小时") is not received twice; the text, markdown and
 * template_card parameter tables all list both fields. appchat/send (90248) and the group robot (91770) have none.
 * - template_card (and markdown, not sent to members today): 4 h, the maximum. Outbox messages: a send whose
 *   answer was lost (a timeout, or a crash before the outbox recorded it) is retried with the very same JSON
 *   (task_id comes from the idempotency key), and WeCom drops the copy however late within 4 h the retry comes.
 *   The cost: the same display-only card (no task_id) to the same person within 4 h is dropped as well.
 * - text: 60 s. Click feedback (notify) carries nothing per click in its JSON, so a long interval would swallow
 *   the same warning for a later click; a minute folds a double tap and nothing a person would miss.
 */
export const DUPLICATE_CHECK_S: Record<AppMessageContent['msgtype'], number> = { template_card: 4 * 3600, markdown: 4 * 3600, text: 60 };
/** A response_code is usable once, within 72 h of the send or click that issued it (94888). */
export const RESPONSE_CODE_TTL_MS = 72 * 3600_000;
/** App-message markdown and text content limit (robot markdown allows 4096). */
export const APP_CONTENT_BYTES = 2048;
/** After gettoken answers 40001 (bad secret), do not ask again for this long: repeated tries ban the IP for 1 h. */
export const BAD_SECRET_PAUSE_MS = 10 * 60_000;

const userKey = (userId: string) => `user:${userId.toLowerCase()}`; // userids are case-insensitive (90196)
const chatKey = (chatId: string) => `chat:${chatId}`;
const shortHash = (s: string, n: number) => createHash('sha256').update(s).digest('base64url').slice(0, n);

/**
 * The task_id of one send: the renderer's id (one per card instance) plus a hash of the idempotency key.
 * WeCom wants task_ids unique per app (reuse → 42014), and one card instance may go to several managers;
 * deterministic, so a retried send is byte-identical and caught by WeCom's duplicate check.
 * Only [A-Za-z0-9_-] (base64url), ≤ 128 bytes.
 */
export function sendTaskId(renderedTaskId: string, idempotencyKey: string): string {
  const suffix = shortHash(idempotencyKey, 16);
  return `${renderedTaskId.slice(0, WECOM_LIMITS.taskIdBytes - suffix.length - 1)}-${suffix}`;
}

/** A message/send body to one member, with WeCom's duplicate check on. */
function appMessage(touser: string, agentid: number, content: AppMessageContent): AppMessage {
  return { touser, agentid, ...content, enable_duplicate_check: 1, duplicate_check_interval: DUPLICATE_CHECK_S[content.msgtype] };
}

/** Markdown within `maxBytes`, dropping whole lines before the last one (the link) rather than cutting a tag. */
export function fitMarkdown(content: string, maxBytes: number): string {
  if (Buffer.byteLength(content) <= maxBytes) return content;
  const lines = content.split('\n');
  const last = lines.pop() ?? '';
  while (lines.length > 1 && Buffer.byteLength([...lines, '…', last].join('\n')) > maxBytes) lines.pop();
  return clipBytes([...lines, '…', last].join('\n'), maxBytes);
}

interface Code {
  code: string;
  at: number;
}

/**
 * Unused response_codes per task_id. Sources: the send result and every click on the card (each click
 * event brings a fresh code). The freshest usable one is taken for an update; a code is marked used after
 * WeCom took it (or refused it for good). In memory: an update on another instance falls back to the code
 * the send returned, which the outbox stored with the SentMessage.
 */
export class ResponseCodes {
  private readonly byTask = new Map<string, Code[]>();
  private readonly used = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly maxTasks = 20_000,
  ) {}

  remember(taskId: string, code: string, at = this.clock.now()): void {
    this.prune();
    const list = this.byTask.get(taskId) ?? [];
    if (!list.some((c) => c.code === code)) list.push({ code, at });
    this.byTask.delete(taskId); // re-insert: Map order = least recently touched first
    this.byTask.set(taskId, list);
    while (this.byTask.size > this.maxTasks) this.byTask.delete(this.byTask.keys().next().value!);
  }

  /** The freshest code for the task that is neither used nor expired; `fallback` is the one the send returned. */
  next(taskId: string, fallback?: Code): string | undefined {
    const now = this.clock.now();
    const all = [...(this.byTask.get(taskId) ?? []), ...(fallback ? [fallback] : [])];
    return all
      .filter((c) => !this.used.has(c.code) && now - c.at < RESPONSE_CODE_TTL_MS)
      .sort((a, b) => b.at - a.at)[0]?.code;
  }

  markUsed(code: string): void {
    this.used.set(code, this.clock.now());
  }

  private prune(): void {
    const oldest = this.clock.now() - RESPONSE_CODE_TTL_MS;
    for (const [code, at] of this.used) if (at < oldest) this.used.delete(code);
    for (const [task, list] of this.byTask) {
      const live = list.filter((c) => c.at >= oldest);
      if (live.length === 0) this.byTask.delete(task);
      else if (live.length !== list.length) this.byTask.set(task, live);
    }
  }
}

/** gettoken through the profile's classification, with a pause after a bad secret instead of hammering it. */
function tokenFetcher(client: WecomClient, profile: PlatformProfile, timer: Timer): () => Promise<{ token: string; expiresInMs: number }> {
  let refusedUntil = 0;
  return async () => {
    if (timer.now() < refusedUntil) {
      throw new DeliveryFailure(false, 'wecom: gettoken answered 40001 (invalid corpsecret) a moment ago; not asking again for 10 min (repeated tries ban the server IP for 1 h)');
    }
    let reply: Reply<GetTokenResult>;
    try {
      reply = await client.getToken();
    } catch (error) {
      reply = { error };
    }
    const verdict = profile.classify(reply);
    const token = reply.value?.access_token;
    if (verdict.kind === 'ok' && token) return { token, expiresInMs: (reply.value?.expires_in ?? 7200) * 1000 };
    if (reply.value?.errcode === 40001) refusedUntil = timer.now() + BAD_SECRET_PAUSE_MS;
    if (verdict.kind === 'give_up') throw new DeliveryFailure(false, `wecom: gettoken: ${verdict.reason}`);
    const reason = verdict.kind === 'ok' ? 'no access_token in the answer' : verdict.reason;
    throw new DeliveryFailure(true, `wecom: gettoken: ${reason}`, verdict.kind === 'retry' ? verdict.afterMs : undefined);
  };
}

export interface WecomMessengerOptions {
  client: WecomClient;
  /** WECOM_AGENT_ID */
  agentId: number;
  clock: Clock;
  timer?: Timer;
  /** defaults: wecomProfile() and wecomRobotProfile(); tests pass time-scaled ones */
  profile?: PlatformProfile;
  robotProfile?: PlatformProfile;
}

export class WecomMessenger implements Messenger {
  readonly platform = 'wecom' as const;
  readonly codes: ResponseCodes;
  private readonly client: WecomClient;
  private readonly agentId: number;
  private readonly clock: Clock;
  private readonly app: Outbound;
  private readonly robot: Outbound;

  constructor(opts: WecomMessengerOptions) {
    const timer = opts.timer ?? realTimer;
    const profile = opts.profile ?? wecomProfile();
    this.client = opts.client;
    this.agentId = opts.agentId;
    this.clock = opts.clock;
    this.codes = new ResponseCodes(opts.clock);
    this.app = new Outbound(profile, new TokenCache(tokenFetcher(opts.client, profile, timer), timer), timer);
    this.robot = new Outbound(opts.robotProfile ?? wecomRobotProfile(), null, timer);
  }

  async send(to: Recipient, card: Card, idempotencyKey: string): Promise<SentMessage> {
    if (to.platform !== 'wecom') throw new DeliveryFailure(false, `wecom: recipient is on ${to.platform}`);
    switch (to.kind) {
      case 'user':
        return this.sendToMember(to.id, card, idempotencyKey);
      case 'chat':
        return this.sendToChat(to.id, card, idempotencyKey);
      case 'robot':
        return this.sendToRobot(to.id, card, idempotencyKey);
    }
  }

  /**
   * update_template_card with the freshest unused response_code of the card's task (a click's, else the
   * send's), for the member's copy only (`userids`). The replacement keeps the original task_id.
   */
  async update(sent: SentMessage, card: Card, to: Recipient): Promise<void> {
    if (to.kind !== 'user') throw new DeliveryFailure(false, `wecom: a ${to.kind} message cannot be updated in place (only member cards can)`);
    const taskId = sent.meta?.taskId;
    if (!taskId) throw new DeliveryFailure(false, 'wecom: the card has no task_id (not interactive), so it cannot be updated');
    const fromSend = sent.meta?.responseCode ? { code: sent.meta.responseCode, at: Number(sent.meta.at ?? this.clock.now()) } : undefined;
    const code = this.codes.next(taskId, fromSend);
    if (!code) throw new DeliveryFailure(false, `wecom: no unused response_code left for task ${taskId} (each is usable once, for 72 h)`);
    const template_card = { ...render(card).template_card, task_id: taskId } as WecomTemplateCard;
    try {
      await this.app.call(
        (token) => this.client.updateTemplateCard(token, { userids: [to.id], agentid: this.agentId, response_code: code, template_card }),
        userKey(to.id),
      );
      this.codes.markUsed(code);
    } catch (err) {
      if (err instanceof DeliveryFailure && !err.retryable) this.codes.markUsed(code);
      throw err;
    }
  }

  /** A short text to a member (the click feedback a card cannot show); not retried, not recorded. */
  async notify(userId: string, text: string): Promise<void> {
    const message = appMessage(userId, this.agentId, { msgtype: 'text', text: { content: clipBytes(text, APP_CONTENT_BYTES) } });
    await this.app.call((token) => this.client.sendMessage(token, message), userKey(userId));
  }

  /** Keeps the ResponseCode a click brought, for the update that follows. */
  rememberClick(taskId: string, responseCode: string): void {
    this.codes.remember(taskId, responseCode);
  }

  private async sendToMember(userId: string, card: Card, idempotencyKey: string): Promise<SentMessage> {
    const rendered = render(card).template_card;
    const template_card: WecomTemplateCard = 'task_id' in rendered ? { ...rendered, task_id: sendTaskId(rendered.task_id, idempotencyKey) } : rendered;
    const taskId = 'task_id' in template_card ? template_card.task_id : undefined;
    const message = appMessage(userId, this.agentId, { msgtype: 'template_card', template_card });
    const at = this.clock.now();
    const result = await this.app.call(async (token) => {
      const reply = await this.client.sendMessage(token, message);
      // Our task_id is derived from this message's idempotency key, so "task_id already used" can only mean an
      // earlier attempt of this very send reached WeCom (its answer was lost): it is delivered, not failed.
      if (taskId && reply.value?.errcode === 42014) return { ...reply, body: { errcode: 0 }, value: { errcode: 0, errmsg: 'already sent' } };
      return reply;
    }, userKey(userId));
    const meta: Record<string, string> = { kind: 'user', userId, at: String(at) };
    if (result?.msgid) meta.msgid = result.msgid;
    if (taskId) meta.taskId = taskId;
    if (taskId && result?.response_code) {
      meta.responseCode = result.response_code;
      this.codes.remember(taskId, result.response_code, at);
    }
    return { platform: 'wecom', messageId: taskId ?? result?.msgid ?? `u-${shortHash(idempotencyKey, 22)}`, meta };
  }

  private async sendToChat(chatId: string, card: Card, idempotencyKey: string): Promise<SentMessage> {
    const content = fitMarkdown(renderMarkdown(card).markdown.content, APP_CONTENT_BYTES);
    await this.app.call((token) => this.client.sendAppChat(token, { chatid: chatId, msgtype: 'markdown', markdown: { content } }), chatKey(chatId));
    return { platform: 'wecom', messageId: `c-${shortHash(idempotencyKey, 22)}`, meta: { kind: 'chat' } };
  }

  private async sendToRobot(key: string, card: Card, idempotencyKey: string): Promise<SentMessage> {
    const message = renderMarkdown(card);
    await this.robot.call(() => this.client.sendRobot(key, message), `robot:${shortHash(key, 12)}`);
    return { platform: 'wecom', messageId: `r-${shortHash(idempotencyKey, 22)}`, meta: { kind: 'robot' } };
  }
}
