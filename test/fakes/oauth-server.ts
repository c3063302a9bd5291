// The plumbing the OAuth fakes share (feishu-oauth.ts, wecom-oauth.ts, dingtalk-oauth.ts): a loopback HTTP server
// with a route table, JSON in and out, and the authorization codes a platform's authorize page issues. Codes are
// single-use and expire after 5 minutes: Feishu and WeCom document both (cited in their fakes); DingTalk documents
// single use, and its lifetime is assumed the same (dingtalk-oauth.ts says so).
// No platform rule lives here.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** the parsed JSON body (undefined when there is none or it is not JSON) */
  json: any;
}

export interface FakeAnswer {
  status?: number;
  json?: unknown;
  /** a 302 to this URL */
  location?: string;
}

export type Route = (req: FakeRequest) => FakeAnswer | Promise<FakeAnswer>;

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  json: unknown;
  status: number;
}

/** A code issued by an authorize page for one person, to one redirect_uri. */
export interface IssuedCode<P> {
  person: P;
  redirectUri: string;
  expiresAtMs: number;
  used: boolean;
}

export class Codes<P> {
  private readonly codes = new Map<string, IssuedCode<P>>();
  issue(person: P, redirectUri: string): string {
    const code = randomBytes(12).toString('hex');
    this.codes.set(code, { person, redirectUri, expiresAtMs: Date.now() + 5 * 60_000, used: false });
    return code;
  }
  /** the code's grant, used up; undefined when unknown, used or expired (`why` says which) */
  redeem(code: unknown): IssuedCode<P> | undefined {
    return this.check(code).grant;
  }
  check(code: unknown): { grant?: IssuedCode<P>; why?: 'unknown' | 'used' | 'expired' } {
    const issued = typeof code === 'string' ? this.codes.get(code) : undefined;
    if (!issued) return { why: 'unknown' };
    if (issued.used) return { why: 'used' };
    if (issued.expiresAtMs < Date.now()) return { why: 'expired' };
    issued.used = true;
    return { grant: issued };
  }
}

/** `redirect_uri` with the callback's parameters added (as the platforms' authorize pages do). */
export function callbackUrl(redirectUri: string, params: Record<string, string>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

export class FakeHttp {
  readonly calls: RecordedCall[] = [];
  private server: Server | null = null;
  url = '';

  constructor(private readonly routes: Record<string, Route>) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** the calls of one path */
  to(path: string): RecordedCall[] {
    return this.calls.filter((c) => c.path === path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = this.routes[`${req.method} ${url.pathname}`];
    const answer: FakeAnswer = route ? await route({ method: req.method!, path: url.pathname, query: url.searchParams, headers: req.headers, json }) : { status: 404, json: { error: 'no such route' } };
    const status = answer.location ? 302 : (answer.status ?? 200);
    this.calls.push({ method: req.method!, path: url.pathname, query: Object.fromEntries(url.searchParams), json, status });
    if (answer.location) {
      res.writeHead(302, { location: answer.location });
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(answer.json ?? {}));
  }
}
