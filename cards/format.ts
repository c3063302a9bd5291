// Small pure helpers shared by card builders and renderers: clipping, numbers, dates. (Escaping for a
// platform's markdown is the renderers' job: src/platforms/shared/markdown.ts.)
import { createHash } from 'node:crypto';
import { type Card, callbackActions, kindCode, type Locale } from './model.ts';

/** Clip to at most `max` characters (code points), ending with "…" when clipped. */
export function clip(s: string, max: number): string {
  const cps = Array.from(s);
  if (cps.length <= max) return s;
  if (max <= 1) return '…'.slice(0, max);
  return cps.slice(0, max - 1).join('') + '…';
}

/** Clip to at most `max` UTF-8 bytes on a code-point boundary, ending with "…" when clipped. */
export function clipBytes(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  const ell = '…';
  const budget = max - Buffer.byteLength(ell, 'utf8');
  let out = '';
  let used = 0;
  for (const cp of s) {
    const b = Buffer.byteLength(cp, 'utf8');
    if (used + b > budget) break;
    out += cp;
    used += b;
  }
  return out + ell;
}

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Display width: CJK and other wide characters count 2, everything else 1.
 * Used for WeCom's narrow key column (suggested ≤ 5 Chinese characters).
 */
export function displayWidth(s: string): number {
  let w = 0;
  for (const cp of s) w += isWide(cp) ? 2 : 1;
  return w;
}

export function clipWidth(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  let out = '';
  let w = 0;
  for (const cp of s) {
    const cw = isWide(cp) ? 2 : 1;
    if (w + cw > max - 1) break;
    out += cp;
    w += cw;
  }
  return out + '…';
}

function isWide(cp: string): boolean {
  const c = cp.codePointAt(0) ?? 0;
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}

/** Han characters (used by tests and by `hasChinese`). */
export const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]/u;

/** Label separator: "：" in Chinese, ": " in English. */
export function colon(locale: Locale): string {
  return locale === 'zh-CN' ? '：' : ': ';
}

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 12345.6 → "12,345.6"; at most `decimals` decimals, trailing zeros dropped. */
export function formatNumber(n: number, decimals = 2): string {
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  const fixed = Math.abs(n).toFixed(decimals);
  let [i, f = ''] = fixed.split('.');
  f = f.replace(/0+$/, '');
  return (neg ? '-' : '') + group(i) + (f ? '.' + f : '');
}

/** CNY yuan: "¥15,300", "-¥120.5". */
export function formatYuan(n: number): string {
  return (n < 0 ? '-¥' : '¥') + formatNumber(Math.abs(n), 2);
}

/** "+6", "-12.5", "0" */
export function formatDelta(n: number): string {
  const s = formatNumber(n, 2);
  return n > 0 ? '+' + s : s;
}

/** "40%" from a weight 0.4 */
export function formatWeight(w: number): string {
  return formatNumber(w * 100, 1) + '%';
}

/** ISO instant → "2026-06-30 10:12" in the given IANA time zone (deterministic, no clock read). */
export function formatDateTime(iso: string, timeZone = 'Asia/Shanghai'): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = dtf(timeZone).formatToParts(d);
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}`;
}

/** ISO instant → "2026-06-30" in the given time zone. */
export function formatDate(iso: string, timeZone = 'Asia/Shanghai'): string {
  return formatDateTime(iso, timeZone).slice(0, 10);
}

const dtfCache = new Map<string, Intl.DateTimeFormat>();
function dtf(timeZone: string): Intl.DateTimeFormat {
  let f = dtfCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    dtfCache.set(timeZone, f);
  }
  return f;
}

const BARS = '▁▂▃▄▅▆▇█';
/** A text sparkline for platforms without charts: one bar per value, scaled min..max. */
export function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  return values
    .map((v) => {
      if (max === min) return max > 0 ? BARS[3] : BARS[0];
      const i = Math.round(((v - min) / (max - min)) * (BARS.length - 1));
      return BARS[i];
    })
    .join('');
}

/**
 * Stable identity of one card instance, from its kind family and its callback refs: used as WeCom
 * `task_id` and DingTalk `outTrackId`. A decided request card (approval_result with `closed`) keeps
 * the request's identity, so in-place updates address the same instance.
 * Charset `[A-Za-z0-9_-]`, at most `maxLen` characters; refs outside that charset are hashed.
 */
export function instanceKey(card: Card, maxLen: number): string | null {
  const refs = [...new Set(callbackActions(card).map((a) => a.ref))].sort();
  if (refs.length === 0) return null;
  const prefix = `tb-${kindCode(card.kind)}-`;
  const joined = refs.join('-');
  if (/^[A-Za-z0-9_-]+$/.test(joined) && prefix.length + joined.length <= maxLen) return prefix + joined;
  const h = createHash('sha256').update(refs.join('\n')).digest('base64url');
  return prefix + 'h' + h.slice(0, Math.max(8, maxLen - prefix.length - 1));
}

export function isZh(locale: Locale): boolean {
  return locale === 'zh-CN';
}
