// WeCom (企业微信) web sign-in for the console: OAuth2 with scope snsapi_base, silent inside WeCom's in-app browser.
// Official pages, under https://developer.work.weixin.qq.com/document/path/:
//  - 91022 构造网页授权链接: https://open.weixin.qq.com/connect/oauth2/authorize?appid=CORPID&redirect_uri=…
//    &response_type=code&scope=snsapi_base&state=STATE&agentid=AGENTID#wechat_redirect, the parameters in this
//    order; WeCom sends the browser to redirect_uri?code=CODE&state=STATE (code: at most 512 bytes, usable once,
//    expires after 5 minutes). `state` is a-zA-Z0-9 (and our base64url's -_), at most 128 bytes;
//  - 91023 获取访问用户身份: GET https://qyapi.weixin.qq.com/cgi-bin/auth/getuserinfo?access_token=&code= with the
//    app's access token (91039 gettoken) → {errcode: 0, userid, user_ticket?} for a member of the corp, {errcode: 0,
//    openid, external_userid?} for someone who is not; 40029 is an invalid code.
// The userid is what `identify` takes. The API base is WECOM_API_BASE (a fake in tests). The app token is cached
// between sign-ins (91039 asks callers to cache it; frequent gettoken calls are limited) and fetched again once
// when getuserinfo calls it invalid (40014) or expired (42001).
import { OAuthRefused, type PlatformOAuth } from '../../ports/platform.ts';
import { TokenCache } from '../shared/outbound.ts';
import type { WecomClient } from './client.ts';

export const WECOM_AUTHORIZE_URL = 'https://open.weixin.qq.com/connect/oauth2/authorize';
export const WECOM_GETUSERINFO_PATH = '/cgi-bin/auth/getuserinfo';
const INVALID_TOKEN = 40014;
const EXPIRED_TOKEN = 42001;

export interface WecomOAuthOptions {
  client: WecomClient;
  baseUrl: string;
  corpId: string;
  agentId: number;
  timeoutMs: number;
}

export function wecomOAuth(o: WecomOAuthOptions): PlatformOAuth {
  const base = o.baseUrl.replace(/\/+$/, '');
  const tokens = new TokenCache(async () => {
    const token = await o.client.getToken();
    const accessToken = token.value?.access_token;
    if (typeof accessToken !== 'string' || !accessToken) throw new OAuthRefused('wecom', `gettoken: HTTP ${token.status} errcode ${token.value?.errcode}`);
    return { token: accessToken, expiresInMs: (token.value?.expires_in ?? 7200) * 1000 };
  });
  const getUserInfo = async (accessToken: string, code: string) => {
    const res = await fetch(`${base}${WECOM_GETUSERINFO_PATH}?${new URLSearchParams({ access_token: accessToken, code })}`, { signal: AbortSignal.timeout(o.timeoutMs) });
    return (await res.json().catch(() => null)) as { errcode?: number; errmsg?: string; userid?: string; UserId?: string } | null;
  };
  return {
    codeParam: 'code',
    authorizeUrl: (redirectUri, state) =>
      `${WECOM_AUTHORIZE_URL}?${new URLSearchParams({ appid: o.corpId, redirect_uri: redirectUri, response_type: 'code', scope: 'snsapi_base', state, agentid: String(o.agentId) })}#wechat_redirect`,
    async userId(code) {
      let accessToken = await tokens.get();
      let body = await getUserInfo(accessToken, code);
      if (body?.errcode === INVALID_TOKEN || body?.errcode === EXPIRED_TOKEN) {
        tokens.invalidate(accessToken);
        accessToken = await tokens.get();
        body = await getUserInfo(accessToken, code);
      }
      if (!body || body.errcode !== 0) throw new OAuthRefused('wecom', `auth/getuserinfo: errcode ${body?.errcode} ${body?.errmsg ?? ''}`.trim());
      // `userid` as 91023 documents it; `UserId` as the older user/getuserinfo answered (and some answers still do)
      const userId = body.userid ?? body.UserId;
      if (typeof userId === 'string' && userId) return userId;
      // an openid: a person from outside the corp
      return null;
    },
  };
}
