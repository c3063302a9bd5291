// The notice book of a recompute run: what each person and team should hear about, folded batch by
// batch into a small, bounded record kept with the run's checkpoint (so a crash loses none of it),
// and at the end of the run split into a few individual cards within each person's daily budget and
// one summary of the rest. Pure: no I/O.
import type { RiskLevel, RiskReason } from '../../domain/types.ts';

export type NoticeKind = 'alert' | 'downgrade' | 'upgrade';

export interface NoticeTier {
  key: string;
  name?: string;
  rank?: number;
}

export interface Notice {
  customerId: string;
  name: string;
  ownerId: string;
  kind: NoticeKind;
  /** the customer's risk level now */
  level: RiskLevel;
  /** importance: 3 high-risk alert or a top-tier customer's downgrade, 2 medium alert or another downgrade, 1 low, 0 upgrade */
  priority: number;
  /** yuan a year at stake (the digest's measure) */
  valueAtStake: number;
  /** a baseline notice (first evaluation, fresh store, new policy) is never an individual card */
  baseline: boolean;
  tier: NoticeTier | null;
  /** tier moves: the tier before */
  from: NoticeTier | null;
  /** alerts: the main reason, with its numbers */
  reason: RiskReason | null;
}

export interface NoticeCounts {
  high: number;
  medium: number;
  low: number;
  downgrades: number;
  upgrades: number;
}

export interface Ledger {
  /** the most important notices that may become individual cards (never baselines), at most `cardSlots` */
  cards: Notice[];
  /** the most important notices of all, at most `cardSlots + rowSlots` */
  rows: Notice[];
  counts: NoticeCounts;
  total: number;
}

export interface NoticeBook {
  /** by owner (org user id) */
  people: Record<string, Ledger>;
  /** by team id */
  teams: Record<string, Ledger>;
}

export interface BookLimits {
  /** individual cards a person may get per day */
  cardSlots: number;
  /** rows a summary shows */
  rowSlots: number;
}

export const emptyBook = (): NoticeBook => ({ people: {}, teams: {} });

const SEVERITY: Record<RiskLevel, number> = { none: 0, low: 1, medium: 2, high: 3 };

/** The importance class of a notice (see Notice.priority). */
export function priorityOf(kind: NoticeKind, level: RiskLevel, fromTopTier: boolean): number {
  if (kind === 'alert') return SEVERITY[level];
  if (kind === 'downgrade') return fromTopTier ? 3 : 2;
  return 0;
}

/** Most important first: priority, then value at stake, then customer id and kind (a total order). */
export function compareNotices(a: Notice, b: Notice): number {
  return (
    b.priority - a.priority ||
    b.valueAtStake - a.valueAtStake ||
    (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0) ||
    (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0)
  );
}

function countInto(counts: NoticeCounts, n: Notice, by: 1 | -1): void {
  if (n.kind === 'alert') {
    if (n.level !== 'none') counts[n.level] += by;
  } else counts[n.kind === 'downgrade' ? 'downgrades' : 'upgrades'] += by;
}

/** Keeps the `limit` most important of `list` plus `n`, sorted. */
function keepTop(list: Notice[], n: Notice, limit: number): Notice[] {
  if (limit <= 0) return list;
  if (list.length >= limit && compareNotices(n, list[list.length - 1]) >= 0) return list;
  const out = [...list, n].sort(compareNotices);
  return out.length > limit ? out.slice(0, limit) : out;
}

const emptyLedger = (): Ledger => ({ cards: [], rows: [], counts: { high: 0, medium: 0, low: 0, downgrades: 0, upgrades: 0 }, total: 0 });

function ledgerWith(ledger: Ledger | undefined, n: Notice, cardSlots: number, rowSlots: number): Ledger {
  const l = ledger ?? emptyLedger();
  countInto(l.counts, n, 1);
  l.total++;
  if (!n.baseline) l.cards = keepTop(l.cards, n, cardSlots);
  l.rows = keepTop(l.rows, n, cardSlots + rowSlots);
  return l;
}

/** Folds notices into the book (mutates and returns it): the owner's ledger when `personal`, the team's; a team ledger needs no card slots. */
export function addNotices(book: NoticeBook, notices: { notice: Notice; personal: boolean; teamId: string | null }[], limits: BookLimits): NoticeBook {
  for (const { notice, personal, teamId } of notices) {
    if (personal) book.people[notice.ownerId] = ledgerWith(book.people[notice.ownerId], notice, limits.cardSlots, limits.rowSlots);
    if (teamId) book.teams[teamId] = ledgerWith(book.teams[teamId], notice, 0, limits.rowSlots);
  }
  return book;
}

export interface Allocation {
  /** individual cards, most important first */
  cards: Notice[];
  /** the summary's rows (everything not sent as a card), most important first, at most rowSlots */
  rows: Notice[];
  /** how many notices the summary stands for */
  total: number;
  counts: NoticeCounts;
}

const sameNotice = (a: Notice, b: Notice) => a.customerId === b.customerId && a.kind === b.kind;

/** Splits a person's ledger given how many cards their budget still allows today. */
export function allocate(ledger: Ledger, remaining: number, rowSlots: number): Allocation {
  const cards = ledger.cards.slice(0, Math.max(0, remaining));
  const rows = ledger.rows.filter((n) => !cards.some((c) => sameNotice(c, n))).slice(0, rowSlots);
  const counts = { ...ledger.counts };
  for (const c of cards) countInto(counts, c, -1);
  return { cards, rows, total: ledger.total - cards.length, counts };
}
