// notice: a plain informational card with no actions (chat command replies, help, "unknown user", "unknown
// command"). The texts are the caller's; renderers show them like any card's blocks.
import type { Block, Card, Inline, Locale } from './model.ts';

/** `blocks` first (e.g. a table), then one text block per paragraph. */
export function noticeCard(
  locale: Locale,
  title: string,
  paragraphs: Inline[],
  url: string,
  tone: Card['tone'] = 'info',
  blocks: Block[] = [],
): Card {
  const text = paragraphs.map((p): Block => ({ type: 'text', text: p }));
  return { kind: 'notice', locale, title, tone, summary: title, blocks: [...blocks, ...text], actions: [], url };
}
