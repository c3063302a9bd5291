// Who sees what: a rep their own customers, a manager those of the teams they manage (and their own), an
// admin all. Every console and report endpoint asks these; hiding things in the page is not enough.
import type { CustomerRecord, CustomerScope, Org, OrgUser } from '../ports/store.ts';
import { canActOn } from './workflows/context.ts';

/** The person behind a request: an org user, or the holder of the admin token (sees everything). */
export type Viewer = { kind: 'admin-token' } | { kind: 'user'; user: OrgUser };

export const ADMIN_TOKEN_VIEWER: Viewer = { kind: 'admin-token' };

export function isAdmin(v: Viewer): boolean {
  return v.kind === 'admin-token' || v.user.role === 'admin';
}

/** The teams a user manages: those that list them as a manager. */
export function managedTeamIds(org: Org, user: OrgUser): string[] {
  return org.teams.filter((t) => t.managerIds.includes(user.id)).map((t) => t.id);
}

/** The store filter of what the viewer may see; undefined for everything. */
export function scopeOf(v: Viewer, org: Org): CustomerScope | undefined {
  if (isAdmin(v) || v.kind !== 'user') return undefined;
  const teamIds = managedTeamIds(org, v.user);
  const members = org.users.filter((u) => u.teamId !== undefined && teamIds.includes(u.teamId)).map((u) => u.id);
  return { ownerId: v.user.id, teamIds, teamlessOwnerIds: members };
}

export function canSee(v: Viewer, org: Org, c: CustomerRecord): boolean {
  return v.kind === 'admin-token' || canActOn(v.user, org, c);
}
