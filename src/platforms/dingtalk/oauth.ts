// DingTalk (钉钉) web sign-in for the console: OAuth2 (登录第三方网站 / 获取用户 token). Official pages, under
// https://open.dingtalk.com/document/orgapp/ (and the models of the official SDK, @alicloud/dingtalk's
// oauth2_1_0 GetUserToken and contact_1_0 GetUser):
//  - obtain-identity-credentials: the authorize page https://login.dingtalk.com/oauth2/auth?redirect_uri=…
//    &response_type=code&client_id=…&scope=openid&state=…&prompt=consent; DingTalk sends the browser to
//    redirect_uri?authCode=…&state=… (or with `error` when the user declines);
//  - obtain-user-token: POST https://api.dingtalk.com/v1.0/oauth2/userAccessToken {clientId, clientSecret, code,
//    grantType: "authorization_code"} → {accessToken, refreshToken, expireIn, corpId}; an error is a 4xx with
//    {code, message};
//  - dingtalk-retrieve-user-information: GET /v1.0/contact/users/me with `x-acs-dingtalk-access-token: <user token>`
//    → {nick, unionId, openId, …};
//  - query-a-user-by-the-union-id: POST https://oapi.dingtalk.com/topapi/user/getbyunionid?access_token=<the app's
//    token> {unionid} → {errcode: 0, result: {contact_type, userid}} (contact_type 0: a member of the corp, 1: an
//    external contact); errcode 60121: no such user in the corp. The app's token is POST /v1.0/oauth2/accessToken
//    {appKey, appSecret} (obtain-the-access_token-of-an-internal-app), valid for the oapi host as well; cached
//    between sign-ins and fetched again once when getbyunionid calls it invalid (40014) or expired (42001).
// The userid is what `identify` takes. The API base is DINGTALK_API_BASE (a fake in tests); the oapi host is its
// `oapi.` sibling (the same base when it is not api.dingtalk.com).
import { OAuthRefused, type PlatformOAuth } from '../../ports/platform.ts';
import { TokenCache } from '../shared/outbound.ts';
import type { DingtalkConfig } from './config.ts';

export const DINGTALK_AUTHORIZE_URL = 'https://login.dingtalk.com/oauth2/auth';
export const DINGTALK_USER_TOKEN_PATH = '/v1.0/oauth2/userAccessToken';
export const DINGTALK_ME_PATH = '/v1.0/contact/users/me';
export const DINGTALK_APP_TOKEN_PATH = '/v1.0/oauth2/accessToken';
export const DINGTALK_BY_UNIONID_PATH = '/topapi/user/getbyunionid';
/** getbyunionid: the unionId is not a user of this corp */
const NO_SUCH_USER = 60121;
const INVALID_TOKEN = 40014;
const EXPIRED_TOKEN = 42001;

/** api.dingtalk.com → oapi.dingtalk.com; any other base as is. */
export function dingtalkOapiBase(apiBase: string): string {
  const url = new URL(apiBase);
  if (url.hostname === 'api.dingtalk.com') url.hostname = 'oapi.dingtalk.com';
  return url.origin;
}

export function dingtalkOAuth(env: DingtalkConfig): PlatformOAuth {
  const api = env.DINGTALK_API_BASE.replace(/\/+$/, '');
  const oapi = dingtalkOapiBase(api);
  const clientId = env.DINGTALK_CLIENT_ID!;
  const clientSecret = env.DINGTALK_CLIENT_SECRET!;
  const call = async (url: string, init: RequestInit & { token?: string }): Promise<{ status: number; body: Record<string, any> | null }> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.body) headers['content-type'] = 'application/json; charset=utf-8';
    if (init.token) headers['x-acs-dingtalk-access-token'] = init.token;
    const res = await fetch(url, { method: init.method, body: init.body, headers, signal: AbortSignal.timeout(env.PLATFORM_TIMEOUT_MS) });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, any> | null };
  };
  const refused = (what: string, a: { status: number; body: Record<string, any> | null }) =>
    new OAuthRefused('dingtalk', `${what}: HTTP ${a.status} ${a.body?.code ?? a.body?.errcode ?? ''} ${a.body?.message ?? a.body?.errmsg ?? ''}`.trim());
  const appTokens = new TokenCache(async () => {
    const app = await call(api + DINGTALK_APP_TOKEN_PATH, { method: 'POST', body: JSON.stringify({ appKey: clientId, appSecret: clientSecret }) });
    if (app.status !== 200 || typeof app.body?.accessToken !== 'string') throw refused('accessToken', app);
    return { token: app.body.accessToken as string, expiresInMs: Number(app.body.expireIn ?? 7200) * 1000 };
  });
  return {
    codeParam: 'authCode',
    authorizeUrl: (redirectUri, state) =>
      `${DINGTALK_AUTHORIZE_URL}?${new URLSearchParams({ redirect_uri: redirectUri, response_type: 'code', client_id: clientId, scope: 'openid', state, prompt: 'consent' })}`,
    async userId(code) {
      const token = await call(api + DINGTALK_USER_TOKEN_PATH, { method: 'POST', body: JSON.stringify({ clientId, clientSecret, code, grantType: 'authorization_code' }) });
      if (token.status !== 200 || typeof token.body?.accessToken !== 'string') throw refused('userAccessToken', token);
      const me = await call(api + DINGTALK_ME_PATH, { method: 'GET', token: token.body.accessToken });
      if (me.status !== 200 || typeof me.body?.unionId !== 'string' || !me.body.unionId) throw refused('contact/users/me', me);
      const byUnionId = async (appToken: string) =>
        call(`${oapi}${DINGTALK_BY_UNIONID_PATH}?${new URLSearchParams({ access_token: appToken })}`, { method: 'POST', body: JSON.stringify({ unionid: me.body!.unionId }) });
      let appToken = await appTokens.get();
      let user = await byUnionId(appToken);
      if (user.body?.errcode === INVALID_TOKEN || user.body?.errcode === EXPIRED_TOKEN) {
        appTokens.invalidate(appToken);
        appToken = await appTokens.get();
        user = await byUnionId(appToken);
      }
      if (user.body?.errcode === NO_SUCH_USER) return null;
      if (user.status !== 200 || user.body?.errcode !== 0) throw refused('topapi/user/getbyunionid', user);
      const result = user.body.result as { contact_type?: number; userid?: string } | undefined;
      // an external contact of the corp is not one of its people
      if (!result?.userid || (result.contact_type ?? 0) !== 0) return null;
      return result.userid;
    },
  };
}
