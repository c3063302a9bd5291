// Who gets a card, on which platform, and when (quiet hours). Everything goes through the outbox.
import type { Card } from '../../cards/model.ts';
import { DAY_MS, zone } from '../domain/time.ts';
import type { Clock } from '../ports/clock.ts';
import type { Platform, Recipient } from '../ports/messenger.ts';
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

/** The platforms that are switched on, in order of preference for people who have several accounts. */
export type EnabledPlatforms = ReadonlySet<Platform>;

export function userRecipient(user: OrgUser, enabled: EnabledPlatforms): Recipient {
  if (enabled.has('feishu') && (user.feishu?.openId || user.feishu?.userId)) return { platform: 'feishu', kind: 'user', id: user.feishu.openId ?? user.feishu.userId! };
  if (enabled.has('wecom') && user.wecom?.userId) return { platform: 'wecom', kind: 'user', id: user.wecom.userId };
  if (enabled.has('dingtalk') && user.dingtalk?.userId) return { platform: 'dingtalk', kind: 'user', id: user.dingtalk.userId };
  return { platform: 'console', kind: 'user', id: user.id };
}

/** Every team chat configured for a team on an enabled platform; the console always keeps a copy. */
export function teamRecipients(team: OrgTeam, enabled: EnabledPlatforms): Recipient[] {
  const out: Recipient[] = [{ platform: 'console', kind: 'chat', id: team.id }];
  if (enabled.has('feishu') && team.feishu?.chatId) out.push({ platform: 'feishu', kind: 'chat', id: team.feishu.chatId });
  if (enabled.has('wecom') && team.wecom?.chatId) out.push({ platform: 'wecom', kind: 'chat', id: team.wecom.chatId });
  else if (enabled.has('wecom') && team.wecom?.webhookKey) out.push({ platform: 'wecom', kind: 'robot', id: team.wecom.webhookKey });
  if (enabled.has('dingtalk') && team.dingtalk?.openConversationId) out.push({ platform: 'dingtalk', kind: 'chat', id: team.dingtalk.openConversationId });
  return out;
}

export class Notifier {
  constructor(
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly enabled: EnabledPlatforms,
    /** read per card, so a policy with another time zone applies at once */
    private readonly quiet: () => Promise<{ hours: QuietHours | null; timezone: string }>,
  ) {}

  /**
   * A card to a person. `interactive` answers (to their own click or command) are never held;
   * scheduled news waits for quiet hours to end.
   */
  async toUser(user: OrgUser, card: Card, key: { kind: string; subject: string; period: string }, interactive: boolean) {
    const { hours, timezone } = await this.quiet();
    const notBefore = interactive ? undefined : (quietUntil(this.clock.now(), hours, timezone) ?? undefined);
    return this.outbox.enqueue({ ...key, recipient: userRecipient(user, this.enabled), card, notBefore });
  }

  /** A reply on the platform the person wrote from (their own account there). */
  async reply(recipient: Recipient, card: Card, key: { kind: string; subject: string; period: string }) {
    return this.outbox.enqueue({ ...key, recipient, card });
  }

  async toTeam(team: OrgTeam, card: Card, key: { kind: string; subject: string; period: string }) {
    return Promise.all(teamRecipients(team, this.enabled).map((recipient) => this.outbox.enqueue({ ...key, recipient, card })));
  }
}
