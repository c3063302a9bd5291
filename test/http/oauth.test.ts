// "Sign in with Feishu / WeCom / DingTalk": each platform's own web OAuth against a local fake of its endpoints
// (test/fakes/*-oauth.ts), mapped to the org user by the descriptor's identify; the state is single-use and bound
// to the browser that started the sign-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/adapters/memory/memory-store.ts';
import { FakeDingtalkOAuth, APP_TOKEN_PATH as DT_APP_TOKEN, AUTHORIZE_PATH as DT_AUTHORIZE, BY_UNIONID_PATH, USER_TOKEN_PATH as DT_USER_TOKEN } from '../fakes/dingtalk-oauth.ts';
import { FakeFeishuOAuth, AUTHORIZE_PATH as FS_AUTHORIZE, TOKEN_PATH as FS_TOKEN } from '../fakes/feishu-oauth.ts';
import type { FakeHttp } from '../fakes/oauth-server.ts';
import { FakeWecomOAuth, AUTHORIZE_PATH as WC_AUTHORIZE, GETTOKEN_PATH as WC_GETTOKEN, GETUSERINFO_PATH } from '../fakes/wecom-oauth.ts';
import { fixedClock, startApp, type TestApp } from '../helpers/app.ts';
import { cookieBrowser, type CookieBrowser } from '../helpers/cookie-browser.ts';
import { dingtalkOapiBase } from '../../src/platforms/dingtalk/oauth.ts';
import { feishuAccountsBase, feishuOAuth } from '../../src/platforms/feishu/oauth.ts';

const org = {
  users: [
    { id: 'u-zhang', name: '张三', role: 'rep', teamId: 't-east', feishu: { openId: 'ou_zhang' } },
    { id: 'u-li', name: '李四', role: 'manager', teamId: 't-east', wecom: { userId: 'LiSi' } },
    { id: 'u-wang', name: '王五', role: 'rep', teamId: 't-east', dingtalk: { userId: 'staff-wang' } },
  ],
  teams: [{ id: 't-east', name: '华东组', managerIds: ['u-li'] }],
};

const feishu = new FakeFeishuOAuth('cli_test', 'feishu-secret');
const wecom = new FakeWecomOAuth('ww-corp', 'wecom-secret', '1000002');
const dingtalk = new FakeDingtalkOAuth('ding-client', 'dingtalk-secret');

/** What differs per platform in these tests: the documented authorize page, and who is signed in at the platform. */
interface Case {
  platform: 'feishu' | 'wecom' | 'dingtalk';
  fake: FakeHttp;
  /** the authorize page (origin + path): the production one, or for Feishu FEISHU_DOMAIN's accounts host (the fake) */
  authorize: () => string;
  fakeAuthorize: string;
  /** the parameters the official docs list, in the order they list them (WeCom requires the order) */
  params: (redirectUri: string) => [string, string | RegExp][];
  fragment?: string;
  codeParam: string;
  /** the exchange the fake answers, to see a wrong code reach it */
  exchangePath: string;
  member(): { userId: string };
  stranger(): void;
}

const cases: Case[] = [
  {
    platform: 'feishu',
    fake: feishu,
    authorize: () => feishu.url + FS_AUTHORIZE,
    fakeAuthorize: FS_AUTHORIZE,
    params: (redirectUri) => [['client_id', 'cli_test'], ['redirect_uri', redirectUri], ['state', /^[0-9a-f]{64}$/]],
    codeParam: 'code',
    exchangePath: FS_TOKEN,
    member: () => ((feishu.person = { open_id: 'ou_zhang', union_id: 'on_zhang', name: '张三' }), { userId: 'u-zhang' }),
    stranger: () => void (feishu.person = { open_id: 'ou_stranger', union_id: 'on_stranger', name: '路人' }),
  },
  {
    platform: 'wecom',
    fake: wecom,
    authorize: () => 'https://open.weixin.qq.com/connect/oauth2/authorize',
    fakeAuthorize: WC_AUTHORIZE,
    params: (redirectUri) => [['appid', 'ww-corp'], ['redirect_uri', redirectUri], ['response_type', 'code'], ['scope', 'snsapi_base'], ['state', /^[0-9a-f]{64}$/], ['agentid', '1000002']],
    fragment: '#wechat_redirect',
    codeParam: 'code',
    exchangePath: GETUSERINFO_PATH,
    // WeCom userids are case-insensitive, as identify says
    member: () => ((wecom.person = { userid: 'lisi' }), { userId: 'u-li' }),
    stranger: () => void (wecom.person = { userid: 'zhaoliu' }),
  },
  {
    platform: 'dingtalk',
    fake: dingtalk,
    authorize: () => 'https://login.dingtalk.com/oauth2/auth',
    fakeAuthorize: DT_AUTHORIZE,
    params: (redirectUri) => [['redirect_uri', redirectUri], ['response_type', 'code'], ['client_id', 'ding-client'], ['scope', 'openid'], ['state', /^[0-9a-f]{64}$/], ['prompt', 'consent']],
    codeParam: 'authCode',
    exchangePath: DT_USER_TOKEN,
    member: () => ((dingtalk.person = { unionId: 'union-wang', nick: '王五' }), { userId: 'u-wang' }),
    // a member of the corp whom the org does not list
    stranger: () => void (dingtalk.person = { unionId: 'union-zhao', nick: '赵六' }),
  },
];

describe('sign in with a platform', () => {
  const NOW = '2026-06-30T10:00:00+08:00';
  const clock = fixedClock(NOW);
  let app: TestApp;

  beforeAll(async () => {
    await Promise.all([feishu.start(), wecom.start(), dingtalk.start()]);
    dingtalk.directory.set('union-wang', { userid: 'staff-wang', contact_type: 0 });
    dingtalk.directory.set('union-zhao', { userid: 'staff-zhao', contact_type: 0 });
    dingtalk.directory.set('union-guest', { userid: 'guest-1', contact_type: 1 });
    app = await startApp(new MemoryStore(), {
      clock,
      env: {
        TIERBOT_DEMO: '0',
        FEISHU_APP_ID: 'cli_test',
        FEISHU_APP_SECRET: 'feishu-secret',
        FEISHU_VERIFICATION_TOKEN: 'feishu-verification',
        FEISHU_DOMAIN: feishu.url,
        WECOM_CORP_ID: 'ww-corp',
        WECOM_AGENT_ID: '1000002',
        WECOM_SECRET: 'wecom-secret',
        WECOM_TOKEN: 'wecom-token',
        WECOM_ENCODING_AES_KEY: 'a'.repeat(43),
        WECOM_API_BASE: wecom.url,
        DINGTALK_CLIENT_ID: 'ding-client',
        DINGTALK_CLIENT_SECRET: 'dingtalk-secret',
        DINGTALK_ROBOT_CODE: 'ding-robot',
        DINGTALK_API_BASE: dingtalk.url,
      },
    });
    expect((await app.api('/api/v1/org', { method: 'PUT', json: org })).status).toBe(200);
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([feishu.close(), wecom.close(), dingtalk.close()]);
  });

  const browser = () => cookieBrowser(app.url);

  const refusal = async (res: Response) => /data-refusal="([a-z_]+)"/.exec(await res.text())?.[1];

  /** start → our redirect to the platform → the fake's authorize page → the path and query of our callback */
  async function toCallback(c: Case, b: CookieBrowser, next = '/console/customers/c-1'): Promise<string> {
    const start = await b.get(`/console/login/${c.platform}?next=${encodeURIComponent(next)}`);
    expect(start.status).toBe(302);
    const location = start.headers.get('location')!;
    const url = new URL(location);
    expect(url.origin + url.pathname).toBe(c.authorize());
    expect(url.hash).toBe(c.fragment ?? '');
    const redirectUri = `${app.bot.env.PUBLIC_BASE_URL}/console/login/${c.platform}/callback`;
    const expected = c.params(redirectUri);
    expect([...url.searchParams.keys()]).toEqual(expected.map(([k]) => k));
    for (const [k, v] of expected) expect(url.searchParams.get(k)).toMatch(typeof v === 'string' ? new RegExp(`^${v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) : v);
    expect(b.cookies.has('tierbot_oauth')).toBe(true);
    // the browser at the platform (the fake stands in for the authorize page's host); it sends us back
    const page = await fetch(c.fake.url + c.fakeAuthorize + url.search, { redirect: 'manual' });
    expect(page.status).toBe(302);
    const back = new URL(page.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(redirectUri);
    return back.pathname + back.search;
  }

  it('lists the configured platforms, without auth', async () => {
    const res = await fetch(app.url + '/console/login');
    expect(res.status).toBe(200);
    expect((await res.json()).providers).toEqual([
      { platform: 'feishu', url: '/console/login/feishu' },
      { platform: 'wecom', url: '/console/login/wecom' },
      { platform: 'dingtalk', url: '/console/login/dingtalk' },
    ]);
  });

  it('Feishu and Lark: the authorize page is on the accounts host of the API domain; DingTalk: unionId lookups on oapi', () => {
    expect(feishuAccountsBase('https://open.feishu.cn')).toBe('https://accounts.feishu.cn');
    expect(feishuAccountsBase('https://open.larksuite.com/')).toBe('https://accounts.larksuite.com');
    expect(feishuOAuth({ FEISHU_APP_ID: 'cli_a', FEISHU_APP_SECRET: 's', FEISHU_MODE: 'webhook', PUBLIC_BASE_URL: 'https://t.example', PLATFORM_TIMEOUT_MS: 1000 }).authorizeUrl('https://t.example/cb', 'st')).toBe(
      'https://accounts.feishu.cn/open-apis/authen/v1/authorize?client_id=cli_a&redirect_uri=https%3A%2F%2Ft.example%2Fcb&state=st',
    );
    expect(dingtalkOapiBase('https://api.dingtalk.com')).toBe('https://oapi.dingtalk.com');
    expect(dingtalkOapiBase(dingtalk.url)).toBe(dingtalk.url);
  });

  it('a platform that is not configured offers no sign-in', async () => {
    const res = await browser().get('/console/login/slack');
    expect(res.status).toBe(404);
    expect(await refusal(res)).toBe('unknown_platform');
  });

  describe.each(cases)('$platform', (c) => {
    it('signs the org user in: documented authorize parameters, the code exchanged, a session for that person, then the page asked for', async () => {
      const { userId } = c.member();
      const b = browser();
      const callback = await toCallback(c, b);
      expect(new URL(callback, 'http://x').searchParams.get(c.codeParam)).toBeTruthy();
      const res = await b.get(callback);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/console/customers/c-1');
      const session = res.headers.getSetCookie().find((l) => l.startsWith('tierbot_session='))!;
      expect(session).toMatch(/; httponly/i);
      expect(session).toMatch(/; samesite=lax/i);
      expect(b.cookies.has('tierbot_csrf')).toBe(true);
      expect(b.cookies.has('tierbot_oauth')).toBe(false);
      const me = await (await b.get('/api/v1/me')).json();
      expect(me.viewer).toMatchObject({ id: userId });
    });

    it('refuses a person who is not in the org, with no session', async () => {
      c.stranger();
      const b = browser();
      const res = await b.get(await toCallback(c, b));
      expect(res.status).toBe(403);
      expect(await refusal(res)).toBe('not_in_org');
      expect(b.cookies.has('tierbot_session')).toBe(false);
      expect((await b.get('/api/v1/me')).status).toBe(401);
    });

    it('refuses a tampered state', async () => {
      c.member();
      const b = browser();
      const callback = new URL(await toCallback(c, b), 'http://x');
      const state = callback.searchParams.get('state')!;
      for (const tampered of [state.slice(0, 63) + (state[63] === '0' ? '1' : '0'), (state[0] === '0' ? '1' : '0') + state.slice(1), '', 'abc']) {
        callback.searchParams.set('state', tampered);
        const res = await b.get(callback.pathname + callback.search);
        expect(res.status).toBe(400);
        expect(await refusal(res)).toBe('state_invalid');
      }
      expect(b.cookies.has('tierbot_session')).toBe(false);
    });

    it('refuses a replayed state, and one from another browser', async () => {
      c.member();
      const b = browser();
      const callback = await toCallback(c, b);
      expect((await b.get(callback)).status).toBe(302);
      const again = browser();
      const res = await again.get(callback);
      expect(res.status).toBe(400);
      expect(await refusal(res)).toBe('state_used');
      expect(again.cookies.has('tierbot_session')).toBe(false);
      // a callback planted in a browser that did not start the sign-in (no nonce cookie): refused, and used up
      const victim = browser();
      const planted = await toCallback(c, browser());
      const refused = await victim.get(planted);
      expect(refused.status).toBe(400);
      expect(await refusal(refused)).toBe('state_invalid');
      expect(victim.cookies.has('tierbot_session')).toBe(false);
    });

    it('refuses a wrong code: the platform says no, no session', async () => {
      c.member();
      const b = browser();
      const callback = new URL(await toCallback(c, b), 'http://x');
      callback.searchParams.set(c.codeParam, 'not-a-code');
      const before = c.fake.to(c.exchangePath).length;
      const res = await b.get(callback.pathname + callback.search);
      expect(res.status).toBe(401);
      expect(await refusal(res)).toBe('platform_error');
      expect(c.fake.to(c.exchangePath).length).toBe(before + 1);
      expect(b.cookies.has('tierbot_session')).toBe(false);
    });
  });

  it('WeCom: someone outside the corp (an openid, no userid) is refused', async () => {
    wecom.person = { openid: 'o-outsider' };
    const b = browser();
    const res = await b.get(await toCallback(cases[1]!, b));
    expect(res.status).toBe(403);
    expect(await refusal(res)).toBe('not_in_org');
    expect(b.cookies.has('tierbot_session')).toBe(false);
  });

  it('DingTalk: a unionId the corp does not know (60121), and an external contact, are refused', async () => {
    for (const unionId of ['union-unknown', 'union-guest']) {
      dingtalk.person = { unionId, nick: '?' };
      const b = browser();
      const res = await b.get(await toCallback(cases[2]!, b));
      expect(res.status).toBe(403);
      expect(await refusal(res)).toBe('not_in_org');
      expect(b.cookies.has('tierbot_session')).toBe(false);
    }
    expect(dingtalk.to(BY_UNIONID_PATH).some((call) => call.status === 200)).toBe(true);
  });

  it('WeCom and DingTalk: the app token is reused between sign-ins, and fetched again once the platform calls it invalid', async () => {
    for (const [c, tokenPath] of [[cases[1]!, WC_GETTOKEN], [cases[2]!, DT_APP_TOKEN]] as const) {
      const fake = c.fake as FakeWecomOAuth | FakeDingtalkOAuth;
      const signIn = async () => {
        const { userId } = c.member();
        const b = browser();
        expect((await b.get(await toCallback(c, b))).status).toBe(302);
        expect((await (await b.get('/api/v1/me')).json()).viewer.id).toBe(userId);
      };
      await signIn();
      const fetched = fake.to(tokenPath).length;
      await signIn();
      expect(fake.to(tokenPath).length).toBe(fetched);
      fake.expireAppTokens();
      await signIn();
      expect(fake.to(tokenPath).length).toBe(fetched + 1);
    }
  });

  it('a person who declines at the platform comes back without a session', async () => {
    for (const c of [cases[0]!, cases[2]!]) {
      feishu.person = null;
      dingtalk.person = null;
      const b = browser();
      const res = await b.get(await toCallback(c, b));
      expect(res.status).toBe(401);
      expect(await refusal(res)).toBe('declined');
      expect(b.cookies.has('tierbot_session')).toBe(false);
    }
  });

  it('refuses a state older than 10 minutes', async () => {
    const c = cases[1]!;
    c.member();
    const b = browser();
    const callback = await toCallback(c, b);
    clock.set('2026-06-30T10:10:01+08:00');
    try {
      const res = await b.get(callback);
      expect(res.status).toBe(400);
      expect(await refusal(res)).toBe('state_used');
      expect(b.cookies.has('tierbot_session')).toBe(false);
    } finally {
      clock.set(NOW);
    }
  });

  it('drops states that were never called back once they expire', async () => {
    const c = cases[0]!;
    c.member();
    await toCallback(c, browser());
    const stored = () => app.bot.store.docs.find('consoleOAuthStates', {});
    expect((await stored()).length).toBeGreaterThan(0);
    clock.set('2026-06-30T10:10:01+08:00');
    try {
      await toCallback(c, browser());
      expect((await stored()).length).toBe(1);
    } finally {
      clock.set(NOW);
    }
  });

  it('lands only on console pages: another `next` goes to /console', async () => {
    const c = cases[0]!;
    for (const next of ['https://evil.example/', '//evil.example/console', '/console//evil.example', '/api/v1/org']) {
      c.member();
      const b = browser();
      const res = await b.get(await toCallback(c, b, next));
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/console');
    }
  });

  it('the admin token keeps working', async () => {
    const res = await app.api('/api/v1/me');
    expect(res.status).toBe(200);
    expect(res.body.viewer.role).toBe('admin');
  });
});

describe('sign in with a platform, none configured', () => {
  it('offers none, and the routes refuse', async () => {
    const app = await startApp(new MemoryStore(), { env: { TIERBOT_DEMO: '0' } });
    try {
      expect(await (await fetch(app.url + '/console/login')).json()).toEqual({ providers: [] });
      for (const platform of ['feishu', 'wecom', 'dingtalk']) {
        const start = await fetch(`${app.url}/console/login/${platform}`, { redirect: 'manual' });
        expect(start.status).toBe(404);
        expect(start.headers.getSetCookie()).toEqual([]);
        expect((await fetch(`${app.url}/console/login/${platform}/callback?code=x&state=${'0'.repeat(64)}`, { redirect: 'manual' })).status).toBe(404);
      }
    } finally {
      await app.close();
    }
  });
});
