// Short texts the bot answers with (toasts and replies), in both locales, and the notices the bot itself sends
// (unknown user, unknown command). The texts of the cards the workflows build live in cards/i18n.ts.
import type { Card, Inline } from '../../cards/model.ts';
import { noticeCard } from '../../cards/notice.ts';

export type Locale = 'zh-CN' | 'en';

const TEXTS = {
  duplicateClick: { 'zh-CN': '已收到，正在处理', en: 'Already received, working on it' },
  unknownUser: { 'zh-CN': '抱歉，您还不在 tierbot 的组织名单中，请联系管理员添加。', en: 'Sorry, you are not in the tierbot org yet. Please ask an admin to add you.' },
  unknownUserTitle: { 'zh-CN': '未识别的用户', en: 'Unknown user' },
  unknownCommandTitle: { 'zh-CN': '未识别的指令', en: 'Unknown command' },
  staleCard: { 'zh-CN': '这张卡片已失效，请重新打开', en: 'This card has expired, please open it again' },
  notYourCard: { 'zh-CN': '您无权操作这张卡片', en: 'You cannot act on this card' },
  internalError: { 'zh-CN': '出错了，请稍后再试', en: 'Something went wrong, please try again later' },
} as const;

export type TextKey = keyof typeof TEXTS;

export function t(locale: Locale, key: TextKey): string {
  return TEXTS[key][locale];
}

/** "Send help for the list of commands", with the command word in bold. */
const HELP_HINT: Record<Locale, Inline> = {
  'zh-CN': ['发送 ', { strong: '帮助' }, ' 查看可用指令。'],
  en: ['Send ', { strong: 'help' }, ' for the list of commands.'],
};

/** To someone who is not in the org: we do not know their locale, so both languages. */
export function unknownUserNotice(consoleUrl: string): Card {
  const title = `${t('zh-CN', 'unknownUserTitle')} / ${t('en', 'unknownUserTitle')}`;
  return noticeCard('zh-CN', title, [t('zh-CN', 'unknownUser'), t('en', 'unknownUser')], consoleUrl, 'warning');
}

/** The answer to a message that starts with no known command word. */
export function unknownCommandNotice(locale: Locale, consoleUrl: string): Card {
  return noticeCard(locale, t(locale, 'unknownCommandTitle'), [HELP_HINT[locale]], consoleUrl);
}
