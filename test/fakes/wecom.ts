// A fake WeCom (企业微信) for tests: a local HTTP server speaking the real wire format of the APIs tierbot calls,
// CHECKING what it receives and recording it, plus the platform side of callbacks (encrypted + signed with the
// independent @wecom/crypto package, posted to the app's receiver). Official pages, under
// https://developer.work.weixin.qq.com/document/path/: 91039 gettoken, 90236 message/send (发送应用消息),
// 94888 update_template_card, 90248 appchat/send, 91770 group robot, 90312 rate limits, 90240 callback events,
// 90968 callback crypto.
//
// APIs: GET /cgi-bin/gettoken, POST /cgi-bin/message/send, /cgi-bin/message/update_template_card,
// /cgi-bin/appchat/send (access_token), POST /cgi-bin/webhook/send?key= (group robot).
// Behaviour kept from the real one: errcode in a 200 answer; tokens expire (42001) or are unknown (40014);
// per-member 30/min + 1000/hour on message/send with the excess SILENTLY DROPPED (90312; recorded as
// violations); robot 20/min answered with 45009 (91770); enable_duplicate_check drops a request whose JSON
// equals one accepted within duplicate_check_interval (90236); task_id unique per app (42014, 90236);
// response_code issued per interactive send and per click, each usable once within 72 h (94888).
// Assumptions where the docs are silent (marked "assumed"): the answer to a duplicate-checked send (errcode 0,
// the first send's msgid, no response_code) and the errcode for a used/unknown response_code or an interval
// over 4 h (40058). Problems marked "tierbot rule" are our own rules, not WeCom's: recorded so every test
// sees them, but answered as WeCom would (it accepts such requests).
//
// Fault injection: `fault(call)` may answer 5xx (before or after doing the work), any errcode (before the
// work), or never answer (hang; after the work when `after` is set).
//
// Clicks (`clickXml`) are made on a card the fake delivered, as the member sees it (the latest send or update
// of its task), never from a hand-written payload: the button must be on the card; every selector holds an
// option, which is `selected_id` when that names an option and otherwise the FIRST option (select_list and
// button_selection alike: https://developer.work.weixin.qq.com/document/path/90236, selected_id), unless the
// test's member picks another; and the event's SelectedItems report every selector of the card, touched or
// not, each as a SelectedItem with QuestionKey and OptionIds/OptionId (template_card_event:
// https://developer.work.weixin.qq.com/document/path/90240). `eventXml` builds an event by hand, for cards
// that are not tierbot's.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { encrypt as wecomEncrypt, getSignature } from '@wecom/crypto';

export type FakeApi = 'gettoken' | 'message/send' | 'update_template_card' | 'appchat/send' | 'webhook/send';

export interface FakeCall {
  api: FakeApi;
  /** 1-based count of calls to this api */
  n: number;
  body: any;
}

export type Fault = { status: number; after?: boolean } | { errcode: number; errmsg?: string } | { hang: true; after?: boolean };

export interface Delivery {
  via: 'app' | 'appchat' | 'robot';
  /** userid (lower-cased), chatid or robot key */
  to: string;
  msgtype: string;
  body: any;
  at: number;
  msgid: string;
}

export interface UpdateRecord {
  userids: string[];
  responseCode: string;
  taskId: string;
  body: any;
  at: number;
}

interface IssuedCode {
  taskId: string;
  userId: string;
  issuedAt: number;
  used: boolean;
}

export interface FakeWecomOptions {
  corpId: string;
  secret: string;
  agentId: number;
  /** callback config of the app (for posting callbacks) */
  token: string;
  encodingAesKey: string;
  /** members in the app's visible range (case-insensitive) */
  users: string[];
  /** members in range but without a license: answered errcode 0 + unlicenseduser */
  unlicensed?: string[];
  chats?: string[];
  robotKeys?: string[];
  /** scales WeCom's rate windows and duplicate-check intervals (0.01: a minute is 600 ms) */
  timeScale?: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TASK_ID = /^[A-Za-z0-9_\-@]{1,128}$/;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Our own rules on a template_card, from WeCom's suggested lengths and its defaults
 * (https://developer.work.weixin.qq.com/document/path/90236), which WeCom does not refuse: it accepts the card
 * and shows (or submits) something else. Recorded as "tierbot rule" problems.
 */
export function templateCardAdvice(tc: any): string[] {
  const p: string[] = [];
  if (typeof tc !== 'object' || tc === null) return p;
  const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1), 0);
  // keyname: at most 5 characters suggested (https://developer.work.weixin.qq.com/document/path/90236,
  // horizontal_content_list.keyname); read as 10 columns, a CJK character counting 2
  for (const h of Array.isArray(tc.horizontal_content_list) ? tc.horizontal_content_list : []) {
    if (typeof h.keyname === 'string' && width(h.keyname) > 10) p.push(`keyname "${h.keyname}" wider than 5 Chinese characters`);
  }
  const selectors: any[] = [...(tc.button_selection ? [tc.button_selection] : []), ...(Array.isArray(tc.select_list) ? tc.select_list : [])];
  for (const sel of selectors) {
    const options: any[] = Array.isArray(sel.option_list) ? sel.option_list : [];
    // selected_id missing or not an option: WeCom preselects, shows and submits the first option
    // (https://developer.work.weixin.qq.com/document/path/90236, select_list / button_selection selected_id)
    if (!options.some((o) => o.id === sel.selected_id)) p.push(`selector ${sel.question_key}: selected_id ${sel.selected_id} is not an option, WeCom preselects the first`);
    // option text: at most 16 characters suggested (https://developer.work.weixin.qq.com/document/path/90236, option_list.text)
    for (const o of options) if (typeof o.text === 'string' && [...o.text].length > 16) p.push(`selector ${sel.question_key}: option text "${o.text}" over 16 characters`);
  }
  return p;
}

/**
 * Markdown lines WeCom's markdown does not render: its supported subset is headings, bold, links, inline code,
 * quotes and three font colours, no lists (https://developer.work.weixin.qq.com/document/path/91770, markdown类型;
 * app chats the same, https://developer.work.weixin.qq.com/document/path/90248).
 */
export function markdownAdvice(content: string): string[] {
  return content.split('\n').filter((l) => /^\s*[-*+] /.test(l)).map((l) => `markdown list line "${l.slice(0, 40)}" (no lists in WeCom's subset)`);
}

/** Checks a template_card against the documented shape and limits (90236); returns the problems. */
export function templateCardProblems(tc: any, interactiveNeedsTaskId = true): string[] {
  const p: string[] = [];
  if (typeof tc !== 'object' || tc === null) return ['template_card is not an object'];
  const types = ['text_notice', 'news_notice', 'button_interaction', 'vote_interaction', 'multiple_interaction'];
  if (!types.includes(tc.card_type)) p.push(`card_type ${tc.card_type} unknown`);
  if (!tc.main_title?.title && !tc.sub_title_text) p.push('main_title.title or sub_title_text is required');
  const interactive = ['button_interaction', 'vote_interaction', 'multiple_interaction'].includes(tc.card_type);
  if (tc.task_id !== undefined && (typeof tc.task_id !== 'string' || !TASK_ID.test(tc.task_id) || bytes(tc.task_id) > 128)) p.push(`task_id "${tc.task_id}" invalid`);
  if (interactive && interactiveNeedsTaskId && !tc.task_id) p.push('task_id required on interactive cards');
  if (['text_notice', 'news_notice'].includes(tc.card_type)) {
    const a = tc.card_action;
    if (!a || !((a.type === 1 && typeof a.url === 'string' && /^https?:\/\//.test(a.url)) || (a.type === 2 && a.appid))) p.push('card_action required (42045)');
  }
  if (tc.horizontal_content_list !== undefined) {
    if (!Array.isArray(tc.horizontal_content_list) || tc.horizontal_content_list.length > 6) p.push('horizontal_content_list > 6');
    else for (const h of tc.horizontal_content_list) if (!h.keyname) p.push('horizontal_content_list item without keyname');
  }
  if (tc.jump_list !== undefined && (!Array.isArray(tc.jump_list) || tc.jump_list.length > 3)) p.push('jump_list > 3');
  if (tc.main_title?.title && [...tc.main_title.title].length > 36) p.push('main_title.title too long');
  const options = (what: string, list: any, max: number) => {
    if (!Array.isArray(list) || list.length < 1 || list.length > max) return p.push(`${what} must have 1..${max} options`);
    const ids = new Set<string>();
    for (const o of list) {
      if (typeof o.id !== 'string' || !o.id || bytes(o.id) > 128) p.push(`${what} option id invalid`);
      if (ids.has(o.id)) p.push(`${what} option id duplicated`);
      ids.add(o.id);
      if (!o.text) p.push(`${what} option without text`);
    }
  };
  if (tc.card_type === 'button_interaction') {
    const b = tc.button_list;
    if (!Array.isArray(b) || b.length < 1 || b.length > 6) p.push('button_list must have 1..6 buttons');
    else {
      const keys = new Set<string>();
      for (const btn of b) {
        if (!btn.text) p.push('button without text');
        if (btn.style !== undefined && ![1, 2, 3, 4].includes(btn.style)) p.push('button style not 1..4');
        if ((btn.type ?? 0) === 0) {
          if (typeof btn.key !== 'string' || !btn.key || bytes(btn.key) > 1024) p.push('button key missing or > 1024 bytes');
          if (keys.has(btn.key)) p.push('button keys must be unique');
          keys.add(btn.key);
        }
      }
    }
    if (tc.button_selection) {
      if (!tc.button_selection.question_key) p.push('button_selection.question_key missing');
      options('button_selection', tc.button_selection.option_list, 10);
    }
  }
  if (tc.card_type === 'multiple_interaction') {
    const s = tc.select_list;
    if (!Array.isArray(s) || s.length < 1 || s.length > 3) p.push('select_list must have 1..3 selects');
    else
      for (const sel of s) {
        if (!sel.question_key || bytes(sel.question_key) > 1024) p.push('select question_key invalid');
        options(`select ${sel.question_key}`, sel.option_list, 10);
      }
    if (!tc.submit_button?.text || !tc.submit_button?.key) p.push('submit_button needs text and key');
  }
  return p;
}

export class FakeWecom {
  url = '';
  readonly problems: string[] = [];
  readonly rateViolations: string[] = [];
  readonly delivered: Delivery[] = [];
  readonly updates: UpdateRecord[] = [];
  readonly calls: { api: FakeApi; at: number; errcode?: number; status: number }[] = [];
  tokenCalls = 0;
  /** decide a fault per call; default none */
  fault: (call: FakeCall) => Fault | undefined = () => undefined;

  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly tokens = new Map<string, { expired: boolean }>();
  private currentToken: string | null = null;
  private readonly counts = new Map<FakeApi, number>();
  private readonly memberLog = new Map<string, number[]>();
  private readonly robotLog = new Map<string, number[]>();
  private readonly duplicates = new Map<string, { at: number; msgid: string }>();
  private readonly taskIds = new Map<string, { userId: string }>();
  /** task_id → the template_card members see (the send, replaced by each update_template_card) */
  private readonly cards = new Map<string, any>();
  private readonly codes = new Map<string, IssuedCode>();
  private seq = 0;
  private readonly scale: number;

  constructor(readonly opts: FakeWecomOptions) {
    this.scale = opts.timeScale ?? 1;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Expires the current access token: the next calls with it get 42001. */
  expireToken(): void {
    if (this.currentToken) this.tokens.get(this.currentToken)!.expired = true;
  }

  /** Deliveries to one member (lower-cased userid), in arrival order. */
  deliveredTo(userId: string): Delivery[] {
    return this.delivered.filter((d) => d.to === userId.toLowerCase());
  }

  // ------------------------------------------------------------------------------------------
  // The platform side of callbacks

  /** Issues a fresh ResponseCode for a click on a task's card (as WeCom does for every click event). */
  issueClickCode(taskId: string, userId: string): string {
    const code = `rc-click-${++this.seq}-${randomBytes(4).toString('hex')}`;
    this.codes.set(code, { taskId, userId: userId.toLowerCase(), issuedAt: Date.now(), used: false });
    return code;
  }

  /** The card a member sees for a task: the last template_card sent or updated with that task_id. */
  cardOf(taskId: string): any {
    const card = this.cards.get(taskId);
    if (!card) throw new Error(`fake wecom: no card was delivered for task ${taskId}`);
    return card;
  }

  /**
   * The decrypted XML of a member's click on a delivered card, as WeCom builds a template_card_event
   * (https://developer.work.weixin.qq.com/document/path/90240): EventKey the clicked button's key (it must be on
   * the card), CardType and TaskId of the card, a fresh ResponseCode, and SelectedItems with EVERY selector of
   * the card. `choose` is what the member picked (question_key → option id, which must be an option); an
   * untouched selector reports `selected_id` when it names an option, else the first option
   * (https://developer.work.weixin.qq.com/document/path/90236, selected_id).
   */
  clickXml(o: { user: string; taskId: string; key: string; choose?: Record<string, string>; createTime?: number }): string {
    const card = this.cardOf(o.taskId);
    const keys = [...(card.button_list ?? []).map((b: any) => b.key), ...(card.submit_button ? [card.submit_button.key] : [])];
    // EventKey is the key of the clicked button (https://developer.work.weixin.qq.com/document/path/90240)
    if (!keys.includes(o.key)) throw new Error(`fake wecom: no button with key ${o.key} on the card of task ${o.taskId}`);
    const selectors: any[] = [...(card.button_selection ? [card.button_selection] : []), ...(card.select_list ?? [])];
    for (const q of Object.keys(o.choose ?? {})) {
      if (!selectors.some((s) => s.question_key === q)) throw new Error(`fake wecom: no selector ${q} on the card of task ${o.taskId}`);
    }
    // every selector of the card is reported (https://developer.work.weixin.qq.com/document/path/90240, SelectedItems)
    const selected: Record<string, string[]> = {};
    for (const sel of selectors) {
      const ids: string[] = sel.option_list.map((x: any) => x.id);
      const picked = o.choose?.[sel.question_key];
      if (picked !== undefined && !ids.includes(picked)) throw new Error(`fake wecom: ${picked} is not an option of ${sel.question_key}`);
      // untouched: selected_id if it is an option, else the first (https://developer.work.weixin.qq.com/document/path/90236)
      selected[sel.question_key] = [picked ?? (ids.includes(sel.selected_id) ? sel.selected_id : ids[0])];
    }
    return this.eventXml({ user: o.user, taskId: o.taskId, key: o.key, cardType: card.card_type, selected, createTime: o.createTime });
  }

  /** A template_card_event (https://developer.work.weixin.qq.com/document/path/90240) written by hand: for cards tierbot did not send. */
  eventXml(o: { user: string; taskId: string; key: string; cardType: string; selected?: Record<string, string[]>; createTime?: number }): string {
    const code = this.issueClickCode(o.taskId, o.user);
    const items = Object.entries(o.selected ?? {})
      .map(([q, ids]) => `<SelectedItem><QuestionKey><![CDATA[${q}]]></QuestionKey><OptionIds>${ids.map((id) => `<OptionId><![CDATA[${id}]]></OptionId>`).join('')}</OptionIds></SelectedItem>`)
      .join('');
    return (
      `<xml><ToUserName><![CDATA[${this.opts.corpId}]]></ToUserName><FromUserName><![CDATA[${o.user}]]></FromUserName>` +
      `<CreateTime>${o.createTime ?? Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
      `<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[${o.key}]]></EventKey>` +
      `<TaskId><![CDATA[${o.taskId}]]></TaskId><CardType><![CDATA[${o.cardType}]]></CardType>` +
      `<ResponseCode><![CDATA[${code}]]></ResponseCode><AgentID>${this.opts.agentId}</AgentID>` +
      (items ? `<SelectedItems>${items}</SelectedItems>` : '') +
      `</xml>`
    );
  }

  /** The decrypted XML of a text message to the app. */
  textXml(o: { user: string; content: string; msgId: string }): string {
    return (
      `<xml><ToUserName><![CDATA[${this.opts.corpId}]]></ToUserName><FromUserName><![CDATA[${o.user}]]></FromUserName>` +
      `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
      `<Content><![CDATA[${o.content}]]></Content><MsgId>${o.msgId}</MsgId><AgentID>${this.opts.agentId}</AgentID></xml>`
    );
  }

  /** Encrypts and signs `inner` like WeCom and POSTs it to the receiver; `tamper` makes bad requests on purpose. */
  async postCallback(
    receiverUrl: string,
    inner: string,
    tamper: { timestampMs?: number; corpId?: string; signature?: string; body?: string } = {},
  ): Promise<{ status: number; text: string; ms: number }> {
    const timestamp = String(Math.floor((tamper.timestampMs ?? Date.now()) / 1000));
    const nonce = randomBytes(6).toString('hex');
    const encrypt = wecomEncrypt(this.opts.encodingAesKey, inner, tamper.corpId ?? this.opts.corpId);
    const signature = tamper.signature ?? getSignature(this.opts.token, timestamp, nonce, encrypt);
    const body =
      tamper.body ??
      `<xml><ToUserName><![CDATA[${this.opts.corpId}]]></ToUserName><AgentID><![CDATA[${this.opts.agentId}]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    const q = new URLSearchParams({ msg_signature: signature, timestamp, nonce });
    const started = Date.now();
    const res = await fetch(`${receiverUrl}?${q}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body, signal: AbortSignal.timeout(5000) });
    return { status: res.status, text: await res.text(), ms: Date.now() - started };
  }

  /** The URL-verification GET WeCom makes when the callback URL is saved in the admin console. */
  async verifyUrl(receiverUrl: string, echo: string): Promise<{ status: number; text: string }> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(6).toString('hex');
    const echostr = wecomEncrypt(this.opts.encodingAesKey, echo, this.opts.corpId);
    const q = new URLSearchParams({ msg_signature: getSignature(this.opts.token, timestamp, nonce, echostr), timestamp, nonce, echostr });
    const res = await fetch(`${receiverUrl}?${q}`);
    return { status: res.status, text: await res.text() };
  }

  // ------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const api = this.apiOf(req.method ?? '', url.pathname);
    const send = (status: number, json?: unknown) => {
      const errcode = (json as { errcode?: number } | undefined)?.errcode;
      if (api) this.calls.push({ api, at: Date.now(), errcode, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(json === undefined ? 'Internal Server Error' : JSON.stringify(json));
    };
    if (!api) return send(404, { errcode: 404, errmsg: 'not found' });
    const n = (this.counts.get(api) ?? 0) + 1;
    this.counts.set(api, n);
    let body: any;
    if (req.method === 'POST') {
      if (!/application\/json/.test(req.headers['content-type'] ?? '')) this.problems.push(`${api}: content-type ${req.headers['content-type']}`);
      try {
        body = JSON.parse(raw);
      } catch {
        this.problems.push(`${api}: body is not JSON`);
        return send(200, { errcode: 47001, errmsg: 'data format error' });
      }
    }
    const fault = this.fault({ api, n, body });
    if (fault && 'errcode' in fault) return send(200, { errcode: fault.errcode, errmsg: fault.errmsg ?? 'injected' });
    if (fault && !('after' in fault && fault.after)) {
      if ('hang' in fault) return; // never answers
      return send(fault.status);
    }
    const answer = this.process(api, url, body);
    if (fault && 'hang' in fault) return; // did the work, never answers
    if (fault && 'status' in fault) return send(fault.status);
    send(200, answer);
  }

  private apiOf(method: string, path: string): FakeApi | null {
    if (method === 'GET' && path === '/cgi-bin/gettoken') return 'gettoken';
    if (method !== 'POST') return null;
    if (path === '/cgi-bin/message/send') return 'message/send';
    if (path === '/cgi-bin/message/update_template_card') return 'update_template_card';
    if (path === '/cgi-bin/appchat/send') return 'appchat/send';
    if (path === '/cgi-bin/webhook/send') return 'webhook/send';
    return null;
  }

  private process(api: FakeApi, url: URL, body: any): object {
    if (api === 'gettoken') return this.getToken(url);
    if (api === 'webhook/send') return this.robotSend(url.searchParams.get('key') ?? '', body);
    const tokenError = this.checkToken(url.searchParams.get('access_token'));
    if (tokenError) return tokenError;
    if (api === 'message/send') return this.messageSend(body);
    if (api === 'update_template_card') return this.updateCard(body);
    return this.appchatSend(body);
  }

  private getToken(url: URL): object {
    this.tokenCalls++;
    if (url.searchParams.get('corpid') !== this.opts.corpId) return { errcode: 40013, errmsg: 'invalid corpid' };
    if (url.searchParams.get('corpsecret') !== this.opts.secret) return { errcode: 40001, errmsg: 'invalid credential' };
    const token = `tok-${++this.seq}-${randomBytes(8).toString('hex')}`;
    this.tokens.set(token, { expired: false });
    this.currentToken = token;
    return { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 };
  }

  private checkToken(token: string | null): object | null {
    if (!token) return { errcode: 41001, errmsg: 'access_token missing' };
    const t = this.tokens.get(token);
    if (!t) return { errcode: 40014, errmsg: 'invalid access_token' };
    if (t.expired) return { errcode: 42001, errmsg: 'access_token expired' };
    return null;
  }

  private withinWindow(log: Map<string, number[]>, key: string, now: number, windowMs: number): number {
    return (log.get(key) ?? []).filter((t) => t > now - windowMs).length;
  }

  private messageSend(b: any): object {
    const problems: string[] = [];
    if (b.agentid !== this.opts.agentId) problems.push(`agentid ${b.agentid} is not the integer ${this.opts.agentId}`);
    if (typeof b.touser !== 'string' || !b.touser) problems.push('touser missing');
    // 90236: duplicate_check_interval "默认1800s，最大不超过4小时" (the errcode for more is assumed)
    if (b.duplicate_check_interval !== undefined && !(Number.isInteger(b.duplicate_check_interval) && b.duplicate_check_interval > 0 && b.duplicate_check_interval <= 4 * 3600)) {
      problems.push(`duplicate_check_interval ${b.duplicate_check_interval} not within 1..14400 s`);
    }
    if (b.enable_duplicate_check !== 1) this.problems.push(`message/send: tierbot rule: ${b.msgtype} without enable_duplicate_check: 1`);
    if (b.msgtype === 'template_card') {
      problems.push(...templateCardProblems(b.template_card));
      this.problems.push(...templateCardAdvice(b.template_card).map((p) => `message/send: tierbot rule: ${p}`));
    } else if (b.msgtype === 'markdown' || b.msgtype === 'text') {
      const content = b[b.msgtype]?.content;
      if (typeof content !== 'string' || !content) problems.push(`${b.msgtype}.content missing`);
      else if (bytes(content) > 2048) problems.push(`${b.msgtype}.content over 2048 bytes`);
    } else problems.push(`msgtype ${b.msgtype} not supported`);
    if (problems.length) {
      this.problems.push(...problems.map((p) => `message/send: ${p}`));
      return { errcode: 40058, errmsg: `invalid parameter: ${problems[0]}` };
    }
    const now = Date.now();
    // 90236: "开启重复消息检查 … 表示在一定时间间隔内，同样内容（请求json）的消息，不会重复收到；时间间隔可通过
    // duplicate_check_interval指定，默认1800秒". Same content = the same request JSON (the token is in the URL, so
    // a retry from a restarted process matches too). Assumed answer: ok with the first send's msgid.
    const dupKey = JSON.stringify(b);
    if (b.enable_duplicate_check === 1) {
      const seen = this.duplicates.get(dupKey);
      if (seen && now - seen.at < (b.duplicate_check_interval ?? 1800) * 1000 * this.scale) return { errcode: 0, errmsg: 'ok', msgid: seen.msgid };
    }
    const users = String(b.touser).split('|');
    const valid = users.filter((u) => this.opts.users.some((k) => k.toLowerCase() === u.toLowerCase()));
    const invalid = users.filter((u) => !valid.includes(u)).map((u) => u.toLowerCase());
    if (valid.length === 0) return { errcode: 81013, errmsg: 'user & party & tag all invalid' };
    const unlicensed = valid.filter((u) => (this.opts.unlicensed ?? []).some((k) => k.toLowerCase() === u.toLowerCase())).map((u) => u.toLowerCase());
    const taskId: string | undefined = b.template_card?.task_id;
    if (taskId && this.taskIds.has(taskId)) return { errcode: 42014, errmsg: 'taskid has existed' };
    const msgid = `msg-${++this.seq}`;
    if (b.enable_duplicate_check === 1) this.duplicates.set(dupKey, { at: now, msgid });
    for (const raw of valid) {
      const u = raw.toLowerCase();
      if (unlicensed.includes(u)) continue;
      const perMinute = this.withinWindow(this.memberLog, u, now, MINUTE * this.scale);
      const perHour = this.withinWindow(this.memberLog, u, now, HOUR * this.scale);
      const log = this.memberLog.get(u) ?? [];
      log.push(now);
      this.memberLog.set(u, log);
      if (perMinute >= 30 || perHour >= 1000) {
        this.rateViolations.push(`${u}: message ${perMinute + 1} within a minute window / ${perHour + 1} within an hour window (silently dropped)`);
        continue; // WeCom drops it without an error
      }
      this.delivered.push({ via: 'app', to: u, msgtype: b.msgtype, body: b, at: now, msgid });
    }
    const answer: Record<string, unknown> = { errcode: 0, errmsg: 'ok', msgid };
    if (invalid.length) answer.invaliduser = invalid.join('|');
    if (unlicensed.length) answer.unlicenseduser = unlicensed.join('|');
    if (taskId) {
      this.taskIds.set(taskId, { userId: valid[0].toLowerCase() });
      this.cards.set(taskId, b.template_card);
      if (['button_interaction', 'vote_interaction', 'multiple_interaction'].includes(b.template_card.card_type)) {
        const code = `rc-send-${this.seq}-${randomBytes(4).toString('hex')}`;
        this.codes.set(code, { taskId, userId: valid[0].toLowerCase(), issuedAt: now, used: false });
        answer.response_code = code;
      }
    }
    return answer;
  }

  private updateCard(b: any): object {
    const problems: string[] = [];
    if (b.agentid !== this.opts.agentId) problems.push(`agentid ${b.agentid} is not the integer ${this.opts.agentId}`);
    if (!b.atall && !(Array.isArray(b.userids) && b.userids.length > 0 && b.userids.length <= 1000)) problems.push('userids (1..1000) or atall required');
    if (!b.template_card && !b.button?.replace_name) problems.push('template_card or button.replace_name required');
    if (b.template_card) problems.push(...templateCardProblems(b.template_card, false));
    if (b.template_card) this.problems.push(...templateCardAdvice(b.template_card).map((p) => `update_template_card: tierbot rule: ${p}`));
    const issued = this.codes.get(b.response_code);
    if (issued && b.template_card?.task_id !== undefined && b.template_card.task_id !== issued.taskId) {
      problems.push(`template_card.task_id ${b.template_card.task_id} is not the card's ${issued.taskId}`);
    }
    if (issued && Array.isArray(b.userids) && !b.userids.some((u: string) => u.toLowerCase() === issued.userId)) {
      problems.push(`userids ${b.userids} do not hold the card of task ${issued.taskId}`);
    }
    if (problems.length) {
      this.problems.push(...problems.map((p) => `update_template_card: ${p}`));
      return { errcode: 40058, errmsg: `invalid parameter: ${problems[0]}` };
    }
    // assumed errcode: the docs do not name the one for a used, expired or unknown response_code
    if (!issued || issued.used || Date.now() - issued.issuedAt > 72 * HOUR) return { errcode: 40058, errmsg: 'invalid response_code' };
    issued.used = true;
    if (b.template_card) this.cards.set(issued.taskId, { ...b.template_card, task_id: issued.taskId });
    this.updates.push({ userids: b.userids ?? [], responseCode: b.response_code, taskId: issued.taskId, body: b, at: Date.now() });
    return { errcode: 0, errmsg: 'ok' };
  }

  private appchatSend(b: any): object {
    const problems: string[] = [];
    if (!(this.opts.chats ?? []).includes(b.chatid)) return { errcode: 86003, errmsg: 'chat not exist' };
    if (b.msgtype !== 'markdown' && b.msgtype !== 'text') problems.push(`msgtype ${b.msgtype} not supported by appchat`);
    const content = b[b.msgtype]?.content;
    if (typeof content !== 'string' || !content) problems.push('content missing');
    else if (bytes(content) > 2048) problems.push('content over 2048 bytes');
    if (problems.length) {
      this.problems.push(...problems.map((p) => `appchat/send: ${p}`));
      return { errcode: 40058, errmsg: `invalid parameter: ${problems[0]}` };
    }
    if (b.msgtype === 'markdown') this.problems.push(...markdownAdvice(content).map((p) => `appchat/send: tierbot rule: ${p}`));
    this.delivered.push({ via: 'appchat', to: b.chatid, msgtype: b.msgtype, body: b, at: Date.now(), msgid: `msg-${++this.seq}` });
    return { errcode: 0, errmsg: 'ok' };
  }

  private robotSend(key: string, b: any): object {
    if (!(this.opts.robotKeys ?? []).includes(key)) return { errcode: 93000, errmsg: 'invalid webhook url' };
    const problems: string[] = [];
    if (b?.msgtype !== 'markdown' && b?.msgtype !== 'text') problems.push(`msgtype ${b?.msgtype} not expected`);
    const content = b?.[b?.msgtype]?.content;
    if (typeof content !== 'string' || !content) problems.push('content missing');
    else if (bytes(content) > (b.msgtype === 'markdown' ? 4096 : 2048)) problems.push('content too long');
    if (problems.length) {
      this.problems.push(...problems.map((p) => `webhook/send: ${p}`));
      return { errcode: 40058, errmsg: `invalid parameter: ${problems[0]}` };
    }
    const now = Date.now();
    if (this.withinWindow(this.robotLog, key, now, MINUTE * this.scale) >= 20) {
      this.rateViolations.push(`robot ${key.slice(0, 4)}…: over 20 per minute (refused with 45009)`);
      return { errcode: 45009, errmsg: 'api freq out of limit' };
    }
    const log = this.robotLog.get(key) ?? [];
    log.push(now);
    this.robotLog.set(key, log);
    if (b.msgtype === 'markdown') this.problems.push(...markdownAdvice(content).map((p) => `webhook/send: tierbot rule: ${p}`));
    this.delivered.push({ via: 'robot', to: key, msgtype: b.msgtype, body: b, at: now, msgid: `msg-${++this.seq}` });
    return { errcode: 0, errmsg: 'ok' };
  }
}
