// Sample cards for the DingTalk tests: an approval request (callback actions) and a digest (links only).
import { approvalRequest } from '../../../cards/approval-request.ts';
import type { Card } from '../../../cards/model.ts';

export function requestCard(ref = 'ar_9f3k2', name = '华东机电'): Card {
  return approvalRequest({
    ref,
    consoleUrl: 'https://tierbot.example.com/customers/c-001',
    customer: { id: 'c-001', name },
    tier: { key: 'A', name: 'A 级' },
    submitter: { name: '李四' },
    submittedAt: '2026-03-02T08:00:00Z',
    dimensions: [
      { key: 'profitability', weight: 0.5, source: 'manual' },
      { key: 'strength', weight: 0.5, source: 'manual' },
    ],
    points: { profitability: 80, strength: 70 },
    previousTotal: 60,
    comment: '大客户',
  });
}

export function digestCard(): Card {
  return {
    kind: 'daily_digest',
    locale: 'zh-CN',
    title: '每日摘要',
    tone: 'info',
    summary: '3 位客户有流失风险',
    blocks: [{ type: 'list', title: '风险客户', items: ['华东机电', '南方贸易', '北方重工'] }],
    actions: [{ type: 'link', key: 'console.open', label: '在控制台打开', url: 'https://tierbot.example.com/reports/at-risk' }],
    url: 'https://tierbot.example.com/reports/at-risk',
  };
}
