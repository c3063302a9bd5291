// Every card kind and variant × every platform × both locales, checked against the platform's limits.
import { describe, expect, it } from 'vitest';
import { CARD_KINDS, type Locale } from '../../cards/model.ts';
import { render as renderConsole } from '../../src/platforms/console/render.ts';
import { render as renderDingtalk } from '../../src/platforms/dingtalk/render.ts';
import { render as renderFeishu } from '../../src/platforms/feishu/render.ts';
import { render as renderWecom, renderMarkdown } from '../../src/platforms/wecom/render.ts';
import { samples } from './fixtures.ts';
import { checkDingtalk, checkFeishu, checkWecom, checkWecomMarkdown } from './limits.ts';

const LOCALES: Locale[] = ['zh-CN', 'en'];

describe.each(LOCALES)('%s', (locale) => {
  const all = samples(locale);

  it('covers every card kind', () => {
    expect(new Set(all.map((s) => s.kind))).toEqual(new Set(CARD_KINDS));
  });

  describe.each(all.map((s) => [s.label, s] as const))('%s', (_label, s) => {
    it('Feishu Card JSON 2.0 within limits', () => {
      expect(checkFeishu(renderFeishu(s.card))).toEqual([]);
    });
    it('WeCom template_card within limits', () => {
      expect(checkWecom(renderWecom(s.card))).toEqual([]);
    });
    it('WeCom robot markdown ≤ 4096 bytes', () => {
      expect(checkWecomMarkdown(renderMarkdown(s.card))).toEqual([]);
    });
    it('DingTalk robot message within limits', () => {
      expect(checkDingtalk(renderDingtalk(s.card))).toEqual([]);
    });
    it('DingTalk interactive card params within limits', () => {
      expect(checkDingtalk(renderDingtalk(s.card, { templateId: 'tierbot-generic.schema' }))).toEqual([]);
    });
    it('console view is the card, JSON-safe', () => {
      const view = renderConsole(s.card);
      expect(view).toEqual(s.card);
      expect(view).not.toBe(s.card);
      expect(JSON.parse(JSON.stringify(view))).toEqual(view);
    });
  });
});
