// A fake of Feishu/Lark's web-app sign-in (OAuth) on 127.0.0.1: the authorize page, the user_access_token
// exchange and user_info, checking what it receives. Official pages, under https://open.feishu.cn/document/:
//  - the authorize page, GET /open-apis/authen/v1/authorize (common-capabilities/sso/api/obtain-oauth-code; on
//    accounts.feishu.cn): client_id (the App ID) and redirect_uri required, state returned as given; after consent
//    a 302 to redirect_uri?code=…&state=…, the code valid for 5 minutes and usable once; a user who declines comes
//    back with error=access_denied;
//  - POST /open-apis/authen/v2/oauth/token (authentication-management/access-token/get-user-access-token):
//    JSON {grant_type: "authorization_code", client_id, client_secret, code, redirect_uri}; redirect_uri must equal
//    the one the code was issued to; success {code: 0, access_token, expires_in, token_type: "Bearer", scope};
//    failure an HTTP 400 {code, error, error_description} with the page's codes: 20001 a missing parameter, 20002
//    a wrong client secret, 20003 an unknown code, 20004 an expired one, 20065 a used one, 20036 another
//    grant_type, 20071 a redirect_uri other than the authorize step's (the `error` strings are assumed);
//  - GET /open-apis/authen/v1/user_info (reference/authen-v1/user_info/get): `Authorization: Bearer
//    <user_access_token>` → {code: 0, msg: "success", data: {open_id, union_id, name, tenant_key, …}}; an unknown
//    token is 99991668 (server-docs/api-call-guide/generic-error-code).
import { Codes, callbackUrl, FakeHttp } from './oauth-server.ts';

export const AUTHORIZE_PATH = '/open-apis/authen/v1/authorize';
export const TOKEN_PATH = '/open-apis/authen/v2/oauth/token';
export const USER_INFO_PATH = '/open-apis/authen/v1/user_info';

export interface FeishuPerson {
  open_id: string;
  union_id: string;
  name: string;
}

export class FakeFeishuOAuth extends FakeHttp {
  /** who is signed in to Feishu in the browser; null: the person declines */
  person: FeishuPerson | null = null;
  private readonly codes = new Codes<FeishuPerson>();
  private readonly tokens = new Map<string, FeishuPerson>();

  constructor(readonly appId: string, readonly appSecret: string) {
    super({
      [`GET ${AUTHORIZE_PATH}`]: ({ query }) => {
        const redirectUri = query.get('redirect_uri');
        if (query.get('client_id') !== this.appId || !redirectUri) return { status: 400, json: { code: 20029, error: 'invalid_request', error_description: 'client_id and redirect_uri are required' } };
        const state = query.get('state') ?? '';
        if (!this.person) return { location: callbackUrl(redirectUri, { error: 'access_denied', state }) };
        return { location: callbackUrl(redirectUri, { code: this.codes.issue(this.person, redirectUri), state }) };
      },
      [`POST ${TOKEN_PATH}`]: ({ json }) => {
        if (!json?.grant_type || !json.client_id || !json.code) return { status: 400, json: { code: 20001, error: 'invalid_request', error_description: 'The request is missing a required parameter.' } };
        if (json.grant_type !== 'authorization_code') return { status: 400, json: { code: 20036, error: 'unsupported_grant_type', error_description: 'The specified grant_type is not supported.' } };
        if (json.client_id !== this.appId || json.client_secret !== this.appSecret) return { status: 400, json: { code: 20002, error: 'invalid_client', error_description: 'The client secret is invalid.' } };
        const { grant, why } = this.codes.check(json.code);
        if (!grant) return { status: 400, json: { code: { unknown: 20003, used: 20065, expired: 20004 }[why!], error: 'invalid_grant', error_description: `the authorization code is ${why}` } };
        if (grant.redirectUri !== json.redirect_uri) return { status: 400, json: { code: 20071, error: 'invalid_grant', error_description: 'The provided redirect URI does not match the one used during authorization.' } };
        const token = `u-${Math.random().toString(36).slice(2)}`;
        this.tokens.set(token, grant.person);
        return { json: { code: 0, access_token: token, expires_in: 7200, token_type: 'Bearer', scope: '' } };
      },
      [`GET ${USER_INFO_PATH}`]: ({ headers }) => {
        const person = this.tokens.get(/^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1] ?? '');
        if (!person) return { status: 401, json: { code: 99991668, msg: 'Invalid access token for authorization' } };
        return { json: { code: 0, msg: 'success', data: { ...person, en_name: person.name, tenant_key: 'tk-fake' } } };
      },
    });
  }
}
