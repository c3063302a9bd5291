// Links into the web console that cards carry. A link for one person signs them in (signed, expiring, bound to
// that org user and the page); a link without a recipient (a group chat, someone not in the org) opens the
// page behind the sign-in.

/** A console page: one customer, or the customer list filtered to an owner, a team or a risk level. */
export type ConsolePage = { customer: string } | { owner?: string; team?: string; risk?: string };

export interface ConsoleLinks {
  /** the URL of `page`; signed for `recipient` (an org user id) when given */
  url(recipient: string | null, page?: ConsolePage): Promise<string>;
}

/** The path and query of a console page (what a signed link opens after signing in). */
export function consolePath(page: ConsolePage = {}): string {
  if ('customer' in page) return `/console/customers/${encodeURIComponent(page.customer)}`;
  const pairs = Object.entries(page).filter(([, v]) => v).map(([k, v]) => `${k}=${encodeURIComponent(v as string)}`);
  return `/console${pairs.length ? `?${pairs.join('&')}` : ''}`;
}
