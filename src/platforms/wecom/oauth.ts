// WeCom (企业微信) web sign-in for the console: OAuth2 with scope snsapi_base, silent inside WeCom's in-app browser.
// Official pages, under https://developer.work.weixin.qq.com/document/path/:
//  - 91022 构造网页授权链接: https://open.weixin.qq.com/connect/oauth2/authorize?appid=CORPID&redirect_uri=…
//    &response_type=code&scope=snsapi_base&state=STATE&agentid=AGENTID#wechat_redirect, the parameters in this
//    order; WeCom sends the browser to redirect_uri?code=CODE&state=STATE (code: at most 512 bytes, usable once,
//    expires after 5 minutes). `state` is a-zA-Z0-9 (and our base64url's -_), at most 128 bytes;
//  - 91023 获取访问用户身份: GET https://qyapi.weixin.qq.com/cgi-bin/auth/getuserinfo?access_token=&code= with the
//    app's access token (91039 gettoken) → {errcode: 0, userid, user_ticket?} for a member of the corp, {errcode: 0,
//    openid, external_userid?} for someone who is not; 40029 is an invalid code.
// The userid is what `identify` takes. The API base is WECOM_API_BASE (a fake in tests).
import { OAuthRefused, type PlatformOAuth } from '../../ports/platform.ts';
import type { WecomClient } from './client.ts';

export const WECOM_AUTHORIZE_URL = 'https://open.weixin.qq.com/connect/oauth2/authorize';
export const WECOM_GETUSERINFO_PATH = '/cgi-bin/auth/getuserinfo';

export interface WecomOAuthOptions {
  client: WecomClient;
  baseUrl: string;
  corpId: string;
  agentId: number;
  timeoutMs: number;
}

export function wecomOAuth(o: WecomOAuthOptions): PlatformOAuth {
  const base = o.baseUrl.replace(/\/+$/, '');
  return {
    codeParam: 'code',
    authorizeUrl: (redirectUri, state) =>
      `${WECOM_AUTHORIZE_URL}?${new URLSearchParams({ appid: o.corpId, redirect_uri: redirectUri, response_type: 'code', scope: 'snsapi_base', state, agentid: String(o.agentId) })}#wechat_redirect`,
    async userId(code) {
      const token = await o.client.getToken();
      const accessToken = token.value?.access_token;
      if (typeof accessToken !== 'string' || !accessToken) throw new OAuthRefused('wecom', `gettoken: HTTP ${token.status} errcode ${(token.value as { errcode?: number } | undefined)?.errcode}`);
      const res = await fetch(`${base}${WECOM_GETUSERINFO_PATH}?${new URLSearchParams({ access_token: accessToken, code })}`, { signal: AbortSignal.timeout(o.timeoutMs) });
      const body = (await res.json().catch(() => null)) as { errcode?: number; errmsg?: string; userid?: string; openid?: string } | null;
      if (!body || body.errcode !== 0) throw new OAuthRefused('wecom', `auth/getuserinfo: HTTP ${res.status} errcode ${body?.errcode} ${body?.errmsg ?? ''}`.trim());
      if (typeof body.userid === 'string' && body.userid) return body.userid;
      // an openid: a person from outside the corp
      return null;
    },
  };
}
