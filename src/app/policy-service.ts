// The active policy: versions live in the store; the config file's policy is version 1 on a fresh store.
import { parsePolicy, type Policy } from '../domain/policy.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { ValidationFailed } from './errors.ts';

export interface ActivePolicy {
  version: number;
  installedAt: string;
  policy: Policy;
}

export class PolicyService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Installs `fallback` as version 1 when the store has no policy yet. */
  async ensure(fallback: Policy): Promise<ActivePolicy> {
    const current = await this.store.getPolicy();
    if (current) return this.active();
    await this.store.addPolicy(fallback, new Date(this.clock.now()).toISOString());
    return this.active();
  }

  async active(): Promise<ActivePolicy> {
    const stored = await this.store.getPolicy();
    if (!stored) throw new Error('no policy installed');
    return this.validated(stored.version, stored.installedAt, stored.policy);
  }

  async byVersion(version: number): Promise<ActivePolicy> {
    const stored = await this.store.getPolicy(version);
    if (!stored) throw new Error(`policy version ${version} not found`);
    return this.validated(stored.version, stored.installedAt, stored.policy);
  }

  /** Validates and installs a new version; a bad policy leaves the running one in force. */
  async install(input: unknown): Promise<number> {
    const parsed = parsePolicy(input);
    if (!parsed.ok) throw new ValidationFailed('the policy is invalid', parsed.issues);
    return this.store.addPolicy(parsed.policy, new Date(this.clock.now()).toISOString());
  }

  private validated(version: number, installedAt: string, raw: unknown): ActivePolicy {
    const parsed = parsePolicy(raw);
    if (!parsed.ok) throw new Error(`stored policy version ${version} no longer validates: ${parsed.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
    return { version, installedAt, policy: parsed.policy };
  }
}
