// A small typed REST client for the WeCom APIs tierbot uses (https://developer.work.weixin.qq.com/document/path/:
// 91039 gettoken, 90236 message/send, 94888 update_template_card, 90248 appchat/send, 91770 group robot).
// Every call returns the raw Answer (HTTP status + parsed JSON) for the profile to classify; nothing here
// retries or interprets errcodes. Tokens and robot keys travel only in the URL and never in an error message.
import type { Answer } from '../shared/outbound.ts';
import type { WecomTemplateCard } from './render.ts';

export interface WecomResult {
  errcode: number;
  errmsg: string;
}

export interface GetTokenResult extends WecomResult {
  access_token?: string;
  /** seconds, normally 7200 */
  expires_in?: number;
}

export interface SendResult extends WecomResult {
  msgid?: string;
  /** only for interactive cards; usable once, for 72 h, with update_template_card */
  response_code?: string;
  invaliduser?: string;
  invalidparty?: string;
  invalidtag?: string;
  unlicenseduser?: string;
}

interface AppMessageBase {
  /** one userid (`|`-separated for several; tierbot always sends to one) */
  touser: string;
  agentid: number;
  /** 1: WeCom drops a request whose JSON equals one it took within `duplicate_check_interval` seconds (90236) */
  enable_duplicate_check: 0 | 1;
  /** default 1800, at most 4 h (14400) */
  duplicate_check_interval: number;
}

/** The message types tierbot sends with message/send; all three take the duplicate check (90236). */
export type AppMessageContent =
  | { msgtype: 'template_card'; template_card: WecomTemplateCard }
  | { msgtype: 'markdown'; markdown: { content: string } }
  | { msgtype: 'text'; text: { content: string } };

export type AppMessage = AppMessageBase & AppMessageContent;

export interface UpdateTemplateCardRequest {
  userids?: string[];
  atall?: 0 | 1;
  agentid: number;
  /** from the send result or a click's ResponseCode; each usable once */
  response_code: string;
  template_card?: WecomTemplateCard;
  button?: { replace_name: string };
}

export type AppChatMessage = { chatid: string; safe?: 0 | 1 } & (
  | { msgtype: 'markdown'; markdown: { content: string } }
  | { msgtype: 'text'; text: { content: string } }
);

export type RobotMessage = { msgtype: 'markdown'; markdown: { content: string } } | { msgtype: 'text'; text: { content: string } };

/** One HTTP exchange: status and the parsed JSON body (undefined when it is not JSON); `value` = the body. */
export type Reply<T> = Answer & { value?: T };

export interface WecomClientOptions {
  /** WECOM_API_BASE, e.g. https://qyapi.weixin.qq.com */
  baseUrl: string;
  corpId: string;
  secret: string;
  /** PLATFORM_TIMEOUT_MS: every request is aborted after this long */
  timeoutMs: number;
}

export class WecomClient {
  private readonly base: string;

  constructor(private readonly opts: WecomClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  /** GET /cgi-bin/gettoken (91039). */
  getToken(): Promise<Reply<GetTokenResult>> {
    return this.request('GET', '/cgi-bin/gettoken', { corpid: this.opts.corpId, corpsecret: this.opts.secret });
  }

  /** POST /cgi-bin/message/send (90236). */
  sendMessage(token: string, message: AppMessage): Promise<Reply<SendResult>> {
    return this.request('POST', '/cgi-bin/message/send', { access_token: token }, message);
  }

  /** POST /cgi-bin/message/update_template_card (94888). */
  updateTemplateCard(token: string, update: UpdateTemplateCardRequest): Promise<Reply<WecomResult>> {
    return this.request('POST', '/cgi-bin/message/update_template_card', { access_token: token }, update);
  }

  /** POST /cgi-bin/appchat/send (90248): into a group chat the app created with appchat/create. */
  sendAppChat(token: string, message: AppChatMessage): Promise<Reply<WecomResult>> {
    return this.request('POST', '/cgi-bin/appchat/send', { access_token: token }, message);
  }

  /** POST /cgi-bin/webhook/send?key= (group robot, 91770): the key is the whole credential. */
  sendRobot(key: string, message: RobotMessage): Promise<Reply<WecomResult>> {
    return this.request('POST', '/cgi-bin/webhook/send', { key }, message);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, query: Record<string, string>, json?: unknown): Promise<Reply<T>> {
    const url = `${this.base}${path}?${new URLSearchParams(query).toString()}`;
    const res = await fetch(url, {
      method,
      headers: json === undefined ? undefined : { 'content-type': 'application/json; charset=utf-8' },
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body, value: body as T | undefined };
  }
}
