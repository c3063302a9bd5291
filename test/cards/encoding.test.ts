// How actions travel on each platform, and how cards are identified.
import { describe, expect, it } from 'vitest';
import { approvalRequest } from '../../cards/approval-request.ts';
import { clip, clipBytes, formatDateTime, formatYuan, instanceKey, sparkline } from '../../cards/format.ts';
import type { ActionPayload } from '../../cards/model.ts';
import { formatCommand, parseCommand } from '../../src/platforms/dingtalk/render.ts';
import { decodeKey, encodeKey, render as renderWecom } from '../../src/platforms/wecom/render.ts';
import { approvalData } from './fixtures.ts';

const PAYLOADS: ActionPayload[] = [
  { k: 'score.approve', r: 'ar_9f3k2Lx' },
  { k: 'contact.log', r: 'ca-7Hx2k_Q9', v: 'no_answer' },
  { k: 'score.reject', r: 'eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig-_', v: 'too_high' },
];

describe('WeCom button keys', () => {
  it.each(PAYLOADS)('round-trips %o', (p) => {
    expect(decodeKey(encodeKey(p))).toEqual(p);
  });
  it('rejects unknown handler keys and malformed keys', () => {
    expect(decodeKey('rm.rf|x')).toBeNull();
    expect(decodeKey('score.approve')).toBeNull();
    expect(decodeKey('score.approve|')).toBeNull();
    expect(decodeKey('a|b|c|d')).toBeNull();
  });
  it('refuses a key over 1024 bytes', () => {
    expect(() => encodeKey({ k: 'score.approve', r: 'x'.repeat(1100) })).toThrow(/1024/);
  });
});

describe('DingTalk commands', () => {
  it.each(PAYLOADS)('round-trips %o, with or without the label in front', (p) => {
    expect(parseCommand(formatCommand(p))).toEqual(p);
    expect(parseCommand(formatCommand(p, '已联系上'))).toEqual(p);
  });
  it('carries free text after the option (reject with another reason)', () => {
    expect(parseCommand('/tb score.reject ar_1 other 客户信息 不全')).toEqual({
      k: 'score.reject',
      r: 'ar_1',
      v: 'other',
      text: '客户信息 不全',
    });
  });
  it('ignores other messages', () => {
    expect(parseCommand('帮助')).toBeNull();
    expect(parseCommand('/tb nope.nope x')).toBeNull();
    expect(parseCommand('评分 c-001 profitability=90')).toBeNull();
  });
  it('refuses refs with whitespace', () => {
    expect(() => formatCommand({ k: 'tier.ack', r: 'a b' })).toThrow();
  });
});

describe('card instance keys (WeCom task_id, DingTalk outTrackId)', () => {
  it('uses the ref when it is short and in the charset', () => {
    expect(instanceKey(approvalRequest(approvalData()), 128)).toBe('tb-ar-ar_9f3k2Lx');
  });
  it('hashes refs outside the charset or too long, deterministically', () => {
    const odd = approvalRequest(approvalData({ ref: 'ar:9f3k/2L+x==' }));
    const k = instanceKey(odd, 128)!;
    expect(k).toMatch(/^tb-ar-h[A-Za-z0-9_-]+$/);
    expect(instanceKey(odd, 128)).toBe(k);
    const long = approvalRequest(approvalData({ ref: 'r'.repeat(300) }));
    expect(instanceKey(long, 64)!.length).toBeLessThanOrEqual(64);
    const w = renderWecom(long).template_card;
    expect(w.card_type === 'button_interaction' && Buffer.byteLength(w.task_id)).toBeLessThanOrEqual(128);
  });
  it('differs between cards with different refs', () => {
    const a = instanceKey(approvalRequest(approvalData({ ref: 'r1' })), 128);
    const b = instanceKey(approvalRequest(approvalData({ ref: 'r2' })), 128);
    expect(a).not.toBe(b);
  });
});

describe('formatting helpers', () => {
  it('money, dates, clipping, sparklines', () => {
    expect(formatYuan(15300)).toBe('¥15,300');
    expect(formatYuan(2185.7)).toBe('¥2,185.7');
    expect(formatYuan(-120.5)).toBe('-¥120.5');
    expect(formatDateTime('2026-06-30T02:12:00Z', 'Asia/Shanghai')).toBe('2026-06-30 10:12');
    expect(clip('上海华东精密机械有限公司', 5)).toBe('上海华东…');
    expect(Buffer.byteLength(clipBytes('上海华东精密机械有限公司', 10))).toBeLessThanOrEqual(10);
    expect(sparkline([0, 50, 100])).toBe('▁▅█');
    expect(sparkline([3, 3])).toBe('▄▄');
  });
});
