// Who owns long-lived work: this instance, and whether another owner is still alive.
// Implemented by app/instances.ts (heartbeat leases); stores use it to repair what a dead owner left.
export interface Liveness {
  readonly self: string;
  isDead(owner: string | null | undefined): Promise<boolean>;
}

/** For a single process that owns everything it sees (tests, tools): every other owner is dead. */
export function soleOwner(self = 'local'): Liveness {
  return { self, isDead: async (owner) => owner !== self };
}
