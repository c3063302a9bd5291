// A fake of DingTalk's (钉钉) web sign-in (OAuth2) on 127.0.0.1: the authorize page, the user token, the user's own
// profile, the app token and unionId → userid, checking what it receives. Official pages, under
// https://open.dingtalk.com/document/orgapp/ (request and answer fields also as in the official SDK's models,
// @alicloud/dingtalk oauth2_1_0 GetUserToken/GetAccessToken and contact_1_0 GetUser):
//  - obtain-identity-credentials: GET https://login.dingtalk.com/oauth2/auth with redirect_uri, response_type=code,
//    client_id, scope=openid, state, prompt=consent; after consent a 302 to redirect_uri?authCode=…&state=… (the
//    code usable once; its 5-minute lifetime is assumed, like the other platforms'); declining gives error=…;
//  - obtain-user-token: POST /v1.0/oauth2/userAccessToken {clientId, clientSecret, code, grantType:
//    "authorization_code"} → {accessToken, refreshToken, expireIn, corpId}; a refused code is an HTTP 400 with
//    {code, message} (the code string used here is assumed);
//  - dingtalk-retrieve-user-information: GET /v1.0/contact/users/me, header x-acs-dingtalk-access-token (the user
//    token) → {nick, unionId, openId, …}; an unknown token is a 401 {code, message};
//  - obtain-the-access_token-of-an-internal-app: POST /v1.0/oauth2/accessToken {appKey, appSecret} → {accessToken,
//    expireIn};
//  - query-a-user-by-the-union-id: POST /topapi/user/getbyunionid?access_token= (oapi.dingtalk.com) {unionid} →
//    {errcode: 0, errmsg: "ok", result: {contact_type, userid}}; 60121 when the corp has no such user; an invalid
//    token 40014 (the server error codes page).
import { Codes, callbackUrl, FakeHttp } from './oauth-server.ts';

export const AUTHORIZE_PATH = '/oauth2/auth';
export const USER_TOKEN_PATH = '/v1.0/oauth2/userAccessToken';
export const ME_PATH = '/v1.0/contact/users/me';
export const APP_TOKEN_PATH = '/v1.0/oauth2/accessToken';
export const BY_UNIONID_PATH = '/topapi/user/getbyunionid';

export interface DingtalkPerson {
  unionId: string;
  nick: string;
}

export class FakeDingtalkOAuth extends FakeHttp {
  /** who is signed in to DingTalk in the browser; null: the person declines */
  person: DingtalkPerson | null = null;
  /** the corp's directory: unionId → its userid (contact_type 0: a member, 1: an external contact) */
  readonly directory = new Map<string, { userid: string; contact_type: 0 | 1 }>();
  private readonly codes = new Codes<DingtalkPerson>();
  private readonly userTokens = new Map<string, DingtalkPerson>();
  private readonly appTokens = new Set<string>();

  /** WeCom/DingTalk invalidate the app's tokens (the next call with one is 40014) */
  expireAppTokens(): void {
    this.appTokens.clear();
  }

  constructor(readonly clientId: string, readonly clientSecret: string) {
    super({
      [`GET ${AUTHORIZE_PATH}`]: ({ query }) => {
        const redirectUri = query.get('redirect_uri');
        const ok = query.get('client_id') === this.clientId && redirectUri && query.get('response_type') === 'code' && (query.get('scope') ?? '').split(' ').includes('openid') && query.get('prompt') === 'consent';
        if (!ok) return { status: 400, json: { code: 'invalidRequest', message: 'invalid authorize parameters' } };
        const state = query.get('state') ?? '';
        if (!this.person) return { location: callbackUrl(redirectUri, { error: 'access_denied', state }) };
        return { location: callbackUrl(redirectUri, { authCode: this.codes.issue(this.person, redirectUri), state }) };
      },
      [`POST ${USER_TOKEN_PATH}`]: ({ json }) => {
        if (json?.clientId !== this.clientId || json.clientSecret !== this.clientSecret || json.grantType !== 'authorization_code') return { status: 400, json: { code: 'invalidClient', message: 'clientId, clientSecret or grantType' } };
        const grant = this.codes.redeem(json.code);
        if (!grant) return { status: 400, json: { code: 'invalidAuthCode', message: 'the code is invalid, used or expired' } };
        const token = `dt-user-${Math.random().toString(36).slice(2)}`;
        this.userTokens.set(token, grant.person);
        return { json: { accessToken: token, refreshToken: 'r', expireIn: 7200, corpId: 'ding-corp' } };
      },
      [`GET ${ME_PATH}`]: ({ headers }) => {
        const person = this.userTokens.get(String(headers['x-acs-dingtalk-access-token'] ?? ''));
        if (!person) return { status: 401, json: { code: 'InvalidAuthentication', message: 'invalid user token' } };
        return { json: { nick: person.nick, unionId: person.unionId, openId: `open-${person.unionId}` } };
      },
      [`POST ${APP_TOKEN_PATH}`]: ({ json }) => {
        if (json?.appKey !== this.clientId || json.appSecret !== this.clientSecret) return { status: 400, json: { code: 'invalidClientIdOrSecret', message: 'appKey or appSecret' } };
        const token = `dt-app-${Math.random().toString(36).slice(2)}`;
        this.appTokens.add(token);
        return { json: { accessToken: token, expireIn: 7200 } };
      },
      [`POST ${BY_UNIONID_PATH}`]: ({ query, json }) => {
        if (!this.appTokens.has(query.get('access_token') ?? '')) return { json: { errcode: 40014, errmsg: '不合法的access_token' } };
        const found = typeof json?.unionid === 'string' ? this.directory.get(json.unionid) : undefined;
        if (!found) return { json: { errcode: 60121, errmsg: '找不到该用户' } };
        return { json: { errcode: 0, errmsg: 'ok', result: found } };
      },
    });
  }
}
