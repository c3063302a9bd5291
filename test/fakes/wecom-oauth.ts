// A fake of WeCom's (企业微信) web sign-in (OAuth2, snsapi_base) on 127.0.0.1: the authorize page, gettoken and
// auth/getuserinfo, checking what it receives. Official pages, under https://developer.work.weixin.qq.com/document/path/:
//  - 91022 构造网页授权链接: GET https://open.weixin.qq.com/connect/oauth2/authorize with appid (the CorpID),
//    redirect_uri, response_type=code, scope (snsapi_base: silent), state (a-zA-Z0-9, at most 128 bytes), agentid,
//    and the #wechat_redirect fragment (which a browser never sends: the test checks it on the URL); then a 302 to
//    redirect_uri?code=CODE&state=STATE, the code usable once and expiring after 5 minutes;
//  - 91039 gettoken: GET /cgi-bin/gettoken?corpid=&corpsecret= → {errcode: 0, access_token, expires_in: 7200};
//    a wrong secret is 40001;
//  - 91023 获取访问用户身份: GET /cgi-bin/auth/getuserinfo?access_token=&code= → a member: {errcode: 0, errmsg: "ok",
//    userid, user_ticket?}; someone outside the corp: {errcode: 0, errmsg: "ok", openid, external_userid?}; an invalid
//    code 40029 and an invalid access_token 40014 (the global error codes, 90313).
import { Codes, callbackUrl, FakeHttp } from './oauth-server.ts';

export const AUTHORIZE_PATH = '/connect/oauth2/authorize';
export const GETTOKEN_PATH = '/cgi-bin/gettoken';
export const GETUSERINFO_PATH = '/cgi-bin/auth/getuserinfo';

/** a member of the corp (userid) or someone outside it (openid) */
export type WecomPerson = { userid: string } | { openid: string };

export class FakeWecomOAuth extends FakeHttp {
  /** who opens the page in WeCom's browser */
  person: WecomPerson = { userid: 'nobody' };
  private readonly codes = new Codes<WecomPerson>();
  private readonly tokens = new Set<string>();

  /** WeCom/DingTalk invalidate the app's tokens (the next call with one is 40014) */
  expireAppTokens(): void {
    this.tokens.clear();
  }

  constructor(readonly corpId: string, readonly secret: string, readonly agentId: string) {
    super({
      [`GET ${AUTHORIZE_PATH}`]: ({ query }) => {
        const redirectUri = query.get('redirect_uri');
        const state = query.get('state') ?? '';
        const ok = query.get('appid') === this.corpId && redirectUri && query.get('response_type') === 'code' && query.get('scope') === 'snsapi_base' && query.get('agentid') === this.agentId;
        if (!ok || !/^[A-Za-z0-9]{0,128}$/.test(state)) return { status: 400, json: { errcode: 40001, errmsg: 'invalid authorize parameters' } };
        return { location: callbackUrl(redirectUri, { code: this.codes.issue(this.person, redirectUri), state }) };
      },
      [`GET ${GETTOKEN_PATH}`]: ({ query }) => {
        if (query.get('corpid') !== this.corpId || query.get('corpsecret') !== this.secret) return { json: { errcode: 40001, errmsg: 'invalid credential' } };
        const token = `wecom-${Math.random().toString(36).slice(2)}`;
        this.tokens.add(token);
        return { json: { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 } };
      },
      [`GET ${GETUSERINFO_PATH}`]: ({ query }) => {
        if (!this.tokens.has(query.get('access_token') ?? '')) return { json: { errcode: 40014, errmsg: 'invalid access_token' } };
        const grant = this.codes.redeem(query.get('code'));
        if (!grant) return { json: { errcode: 40029, errmsg: 'invalid code' } };
        return { json: { errcode: 0, errmsg: 'ok', ...('userid' in grant.person ? { userid: grant.person.userid, user_ticket: 'ticket' } : { openid: grant.person.openid }) } };
      },
    });
  }
}
