// Feishu/Lark web-app sign-in for the console (the current OAuth flow, official pages under
// https://open.feishu.cn/document/):
//  1. the authorize page GET https://accounts.feishu.cn/open-apis/authen/v1/authorize?client_id=&redirect_uri=&state=
//     (common-capabilities/sso/api/obtain-oauth-code; Lark: accounts.larksuite.com). It sends the browser back to
//     redirect_uri with `code` (valid 5 minutes, once) and `state`, or with `error=access_denied` when the user
//     declines;
//  2. POST /open-apis/authen/v2/oauth/token {grant_type: authorization_code, client_id, client_secret, code,
//     redirect_uri} → {code: 0, access_token, …}; a refusal is {code ≠ 0, error, error_description}
//     (authentication-management/access-token/get-user-access-token);
//  3. GET /open-apis/authen/v1/user_info with `Authorization: Bearer <user_access_token>` → {code: 0, data: {open_id,
//     union_id, user_id?, name, …}} (reference/authen-v1/user_info/get). The open_id is what `identify` takes.
// The API base is FEISHU_DOMAIN (a fake in tests); the authorize page is its `accounts.` host.
import { OAuthRefused, type PlatformOAuth } from '../../ports/platform.ts';
import type { FeishuConfig } from './config.ts';

export const FEISHU_AUTHORIZE_PATH = '/open-apis/authen/v1/authorize';
export const FEISHU_USER_TOKEN_PATH = '/open-apis/authen/v2/oauth/token';
export const FEISHU_USER_INFO_PATH = '/open-apis/authen/v1/user_info';

/** The accounts host of an API base: open.feishu.cn → accounts.feishu.cn, open.larksuite.com → accounts.larksuite.com; any other base as is. */
export function feishuAccountsBase(apiBase: string): string {
  const url = new URL(apiBase);
  if (url.hostname.startsWith('open.')) url.hostname = 'accounts.' + url.hostname.slice('open.'.length);
  return url.origin;
}

export function feishuOAuth(env: FeishuConfig): PlatformOAuth {
  const api = (env.FEISHU_DOMAIN ?? 'https://open.feishu.cn').replace(/\/+$/, '');
  const appId = env.FEISHU_APP_ID!;
  const call = async (path: string, init: RequestInit): Promise<Record<string, any>> => {
    const res = await fetch(api + path, { ...init, signal: AbortSignal.timeout(env.PLATFORM_TIMEOUT_MS) });
    const body = (await res.json().catch(() => null)) as Record<string, any> | null;
    if (!body || body.code !== 0) throw new OAuthRefused('feishu', `${path}: HTTP ${res.status} code ${body?.code} ${body?.error ?? ''} ${body?.error_description ?? body?.msg ?? ''}`.trim());
    return body;
  };
  return {
    codeParam: 'code',
    authorizeUrl: (redirectUri, state) => `${feishuAccountsBase(api)}${FEISHU_AUTHORIZE_PATH}?${new URLSearchParams({ client_id: appId, redirect_uri: redirectUri, state })}`,
    async userId(code, redirectUri) {
      const token = await call(FEISHU_USER_TOKEN_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ grant_type: 'authorization_code', client_id: appId, client_secret: env.FEISHU_APP_SECRET, code, redirect_uri: redirectUri }),
      });
      if (typeof token.access_token !== 'string') throw new OAuthRefused('feishu', 'no access_token in the answer');
      const info = await call(FEISHU_USER_INFO_PATH, { headers: { authorization: `Bearer ${token.access_token}` } });
      const openId = info.data?.open_id;
      if (typeof openId !== 'string' || !openId) throw new OAuthRefused('feishu', 'no open_id in user_info');
      return openId;
    },
  };
}
