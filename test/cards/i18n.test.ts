// Both locales say everything; English says it without Chinese.
import { describe, expect, it } from 'vitest';
import { HAN } from '../../cards/format.ts';
import { LABEL_TABLES, messages, type MsgKey, t, tierLabel, dimensionLabel, dimensionGuidance, metricLabel } from '../../cards/i18n.ts';

const zh = messages('zh-CN');
const en = messages('en');
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('messages', () => {
  it('English has every key and no Chinese', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    const chinese = Object.entries(en).filter(([, v]) => HAN.test(v));
    expect(chinese).toEqual([]);
  });

  it.each(Object.keys(zh) as MsgKey[])('%s has the same placeholders in both locales', (key) => {
    expect(placeholders(en[key])).toEqual(placeholders(zh[key]));
  });

  it('button labels fit WeCom buttons (≤ 10 characters) in both locales', () => {
    const buttons = (Object.keys(zh) as MsgKey[]).filter((k) => k.startsWith('btn.') && k !== 'btn.console');
    for (const k of buttons) {
      expect(Array.from(zh[k]).length, k).toBeLessThanOrEqual(10);
      expect(Array.from(en[k]).length, k).toBeLessThanOrEqual(10);
    }
  });

  it('Chinese field labels fit WeCom’s key column (≤ 5 characters)', () => {
    for (const k of (Object.keys(zh) as MsgKey[]).filter((k) => k.startsWith('f.'))) {
      expect(Array.from(zh[k]).length, k).toBeLessThanOrEqual(5);
    }
  });

  it('fills placeholders', () => {
    expect(t('zh-CN', 'more', { n: 40 })).toBe('还有 40 个');
    expect(t('en', 'more', { n: 40 })).toBe('40 more');
  });
});

describe('labels', () => {
  it.each(Object.entries(LABEL_TABLES))('%s: both locales, English without Chinese', (_name, table) => {
    for (const [key, v] of Object.entries(table)) {
      expect(v['zh-CN'], key).toBeTruthy();
      expect(v.en, key).toBeTruthy();
      expect(HAN.test(v.en), `${key}: ${v.en}`).toBe(false);
    }
  });

  it('policy names win in Chinese, built-in labels in English', () => {
    expect(tierLabel('zh-CN', { key: 'A', name: '战略客户' })).toBe('A 战略客户');
    expect(tierLabel('en', { key: 'A', name: '战略客户' })).toBe('A High value');
    expect(tierLabel('en', { key: 'VIP', name: '超级客户' })).toBe('VIP');
    expect(dimensionLabel('zh-CN', { key: 'profitability', name: '利润' })).toBe('利润');
    expect(dimensionLabel('en', { key: 'profitability', name: '利润' })).toBe('Profitability');
    expect(dimensionLabel('en', { key: 'creditRating' })).toBe('Credit rating');
    expect(dimensionGuidance('en', { key: 'strength', guidance: '看规模' })).toMatch(/^Size/);
    expect(dimensionGuidance('zh-CN', { key: 'strength', guidance: '看规模' })).toBe('看规模');
    expect(metricLabel('en', 'attributes.industry')).toBe('industry');
  });
});
