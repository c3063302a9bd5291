// Shared by the console's pages: the sign-in (the admin token from the URL fragment, else the session a card's
// signed link started, whose state-changing requests carry its CSRF value) and small DOM helpers.
const token = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('tierbot-token') || '';
if (token) sessionStorage.setItem('tierbot-token', token);
const csrf = () => decodeURIComponent((document.cookie.match(/(?:^|; )tierbot_csrf=([^;]*)/) || [])[1] || '');
const authHeaders = (extra) => Object.assign(token ? { authorization: 'Bearer ' + token } : { 'x-csrf-token': csrf() }, extra || {});
const SIGN_IN = '请从飞书、企业微信或钉钉卡片上的“在控制台打开”链接进入（管理员：使用启动时打印的控制台地址）。 Open the console from the link on a card in your chat (admins: the console URL printed at start).';

const SIGN_IN_WITH = { feishu: '用飞书登录', wecom: '用企业微信登录', dingtalk: '用钉钉登录' };
const SIGN_IN_STYLE = 'display:inline-block;margin:8px 8px 0 0;padding:6px 14px;background:#3370ff;color:#fff;border-radius:6px;text-decoration:none';

/** After the sign-in message in `box`: a button per platform that offers sign-in (GET /console/login), back to this page after. */
async function offerSignIn(box) {
  const res = await fetch('/console/login').catch(() => null);
  const providers = res && res.ok ? (await res.json()).providers : [];
  if (!providers.length || box.querySelector('[data-sign-in]')) return;
  const next = encodeURIComponent(location.pathname + location.search);
  box.append(el('span', { style: 'display:block', dataset: { signIn: '' } },
    ...providers.map((p) => el('a', { href: p.url + '?next=' + next, style: SIGN_IN_STYLE, dataset: { platform: p.platform } }, SIGN_IN_WITH[p.platform] || p.platform))));
}

/** An API answer that is not 2xx: its status, message and the problems by path (`details`). */
class ApiError extends Error {
  constructor(status, body) {
    super(status === 401 ? SIGN_IN : body && body.error ? body.error.message : String(status));
    this.status = status;
    this.details = (body && body.error && body.error.details) || [];
  }
}

async function request(method, path, body, type) {
  const res = await fetch(path, { method, headers: authHeaders(body === undefined ? {} : { 'content-type': type || 'application/json' }), body });
  const out = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, out);
  return out;
}
const api = (path) => request('GET', path);
const post = (path, body) => request('POST', path, JSON.stringify(body));

const el = (tag, attrs, ...children) => {
  const e = document.createElement(tag);
  const { dataset, ...rest } = attrs || {};
  Object.assign(e, rest);
  Object.assign(e.dataset, dataset || {});
  for (const c of children) e.append(c);
  return e;
};
