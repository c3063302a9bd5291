// Short texts the bot answers with (toasts and replies), in both locales.
export type Locale = 'zh-CN' | 'en';

const TEXTS = {
  duplicateClick: { 'zh-CN': '已收到，正在处理', en: 'Already received, working on it' },
  unknownUser: { 'zh-CN': '抱歉，您还不在 tierbot 的组织名单中，请联系管理员添加。', en: 'Sorry, you are not in the tierbot org yet. Please ask an admin to add you.' },
  staleCard: { 'zh-CN': '这张卡片已失效，请重新打开', en: 'This card has expired, please open it again' },
  notYourCard: { 'zh-CN': '您无权操作这张卡片', en: 'You cannot act on this card' },
  processing: { 'zh-CN': '处理中，稍后更新卡片', en: 'Working on it, the card will update shortly' },
  internalError: { 'zh-CN': '出错了，请稍后再试', en: 'Something went wrong, please try again later' },
} as const;

export type TextKey = keyof typeof TEXTS;

export function t(locale: Locale, key: TextKey): string {
  return TEXTS[key][locale];
}
