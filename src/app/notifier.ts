// Who gets a card, on which platform, and when (quiet hours). Everything goes through the outbox.
import type { Card } from '../../cards/model.ts';
import { DAY_MS, zone } from '../domain/time.ts';
import type { Clock } from '../ports/clock.ts';
import type { Recipient } from '../ports/messenger.ts';
import type { PlatformDescriptor } from '../ports/platform.ts';
import type { OrgTeam, OrgUser } from '../ports/store.ts';
import type { Outbox } from './outbox.ts';

export interface QuietHours {
  start: string; // HH:MM
  end: string;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The instant quiet hours end if `now` falls inside them, else null. Windows may cross midnight. */
export function quietUntil(now: number, quiet: QuietHours | null, timezone: string): number | null {
  if (!quiet) return null;
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  if (start === end) return null;
  const offset = zone(timezone).offsetAt(now);
  const local = now + offset;
  const minuteOfDay = Math.floor((local % DAY_MS) / 60_000);
  const inside = start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
  if (!inside) return null;
  const localMidnight = local - (local % DAY_MS);
  const endsTomorrow = start > end && minuteOfDay >= start;
  return localMidnight + (endsTomorrow ? DAY_MS : 0) + end * 60_000 - offset;
}

/**
 * Where each switched-on platform sends a person's and a team's cards (their descriptors), in order of
 * preference for people who have several accounts (the registry's order).
 */
export type RecipientRoutes = readonly Pick<PlatformDescriptor, 'userRecipient' | 'teamRecipients'>[];

/** The first platform in `routes` the person has an account on; the console otherwise. */
export function userRecipient(user: OrgUser, routes: RecipientRoutes): Recipient {
  for (const route of routes) {
    const recipient = route.userRecipient(user);
    if (recipient) return recipient;
  }
  return { platform: 'console', kind: 'user', id: user.id };
}

/** Every team chat configured for a team on an enabled platform; the console always keeps a copy. */
export function teamRecipients(team: OrgTeam, routes: RecipientRoutes): Recipient[] {
  return [{ platform: 'console', kind: 'chat', id: team.id }, ...routes.flatMap((route) => route.teamRecipients(team))];
}

/** how long a read of the quiet hours and the policy's time zone is reused (real time) */
const QUIET_READ_MS = 1000;

export class Notifier {
  constructor(
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly routes: RecipientRoutes,
    /** read at most once a second (a run's cards would otherwise read the policy once each) */
    private readonly quiet: () => Promise<{ hours: QuietHours | null; timezone: string }>,
  ) {}

  private quietRead: { at: number; value: Promise<{ hours: QuietHours | null; timezone: string }> } | null = null;

  private quietNow() {
    const now = performance.now();
    if (!this.quietRead || now - this.quietRead.at >= QUIET_READ_MS) {
      const value = this.quiet();
      this.quietRead = { at: now, value };
      value.catch(() => (this.quietRead = null));
    }
    return this.quietRead.value;
  }

  /**
   * A card to a person. `interactive` answers (to their own click or command) are never held;
   * scheduled news waits for quiet hours to end.
   */
  async toUser(user: OrgUser, card: Card, key: { kind: string; subject: string; period: string }, interactive: boolean) {
    let notBefore: number | undefined;
    if (!interactive) {
      const { hours, timezone } = await this.quietNow();
      notBefore = quietUntil(this.clock.now(), hours, timezone) ?? undefined;
    }
    return this.outbox.enqueue({ ...key, recipient: userRecipient(user, this.routes), card, notBefore });
  }

  /** A reply on the platform the person wrote from (their own account there). */
  async reply(recipient: Recipient, card: Card, key: { kind: string; subject: string; period: string }) {
    return this.outbox.enqueue({ ...key, recipient, card });
  }

  async toTeam(team: OrgTeam, card: Card, key: { kind: string; subject: string; period: string }) {
    return Promise.all(teamRecipients(team, this.routes).map((recipient) => this.outbox.enqueue({ ...key, recipient, card })));
  }
}
