// Instance leases. Every running tierbot keeps a heartbeat document; work that outlives a request
// (a recompute run, an ingest journal, a scheduled job slot) records the instance that owns it, and
// work whose owner is dead is taken over by a live instance.
//
// "Dead" is decided as early as can be known for sure:
//   - the owner released its lease (clean shutdown) or never had one;
//   - the owner ran on this host and its process is gone, or it had this very pid but another
//     process start (a restarted container keeps its hostname and often pid 1): known at once;
//   - otherwise its heartbeat is older than the lease TTL.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Doc, DocStore } from '../ports/doc-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { Liveness } from '../ports/liveness.ts';

export const INSTANCES = 'instances';
export const HEARTBEAT_MS = 5_000;
export const LEASE_TTL_MS = 30_000;

export interface InstanceDoc extends Doc {
  host: string;
  pid: number;
  /** when the owner's process started (epoch ms): tells a previous incarnation with the same pid */
  processStart: number;
  startedAt: string;
  /** epoch ms of the last heartbeat */
  heartbeatMs: number;
}


export interface InstancesDeps {
  docs: DocStore;
  clock: Clock;
  id?: string;
  host?: string;
  pid?: number;
  processStart?: number;
  heartbeatMs?: number;
  ttlMs?: number;
  /** whether a process with this pid runs on this host (overridable in tests) */
  pidAlive?: (pid: number) => boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

export class Instances implements Liveness {
  readonly self: string;
  private readonly host: string;
  private readonly pid: number;
  private readonly processStart: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: InstancesDeps) {
    this.host = deps.host ?? hostname();
    this.pid = deps.pid ?? process.pid;
    this.processStart = deps.processStart ?? Math.round(performance.timeOrigin);
    this.self = deps.id ?? `${this.host}:${this.pid}:${randomBytes(4).toString('hex')}`;
  }

  /** Takes the lease and keeps it fresh until stop(). */
  async start(): Promise<void> {
    await this.beat();
    this.timer ??= setInterval(() => void this.beat().catch(() => undefined), this.deps.heartbeatMs ?? HEARTBEAT_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const doc: InstanceDoc = { _id: this.self, host: this.host, pid: this.pid, processStart: this.processStart, startedAt: new Date().toISOString(), heartbeatMs: this.deps.clock.now() };
    if (!(await this.deps.docs.update(INSTANCES, this.self, { heartbeatMs: doc.heartbeatMs }))) await this.deps.docs.put(INSTANCES, doc);
  }

  /** Releases the lease: whatever this instance still owns may be taken over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.deps.docs.remove(INSTANCES, this.self).catch(() => undefined);
  }

  async isDead(owner: string | null | undefined): Promise<boolean> {
    if (!owner) return true;
    if (owner === this.self) return false;
    const doc = await this.deps.docs.get<InstanceDoc>(INSTANCES, owner);
    if (!doc) return true;
    if (doc.host === this.host) {
      if (doc.pid === this.pid) {
        if (doc.processStart !== this.processStart) return true;
      } else if (!(this.deps.pidAlive ?? processAlive)(doc.pid)) return true;
    }
    return this.deps.clock.now() - doc.heartbeatMs > (this.deps.ttlMs ?? LEASE_TTL_MS);
  }
}

export const TAKEOVERS = 'takeovers';

interface ClaimDoc extends Doc {
  holder: string;
  at: string;
}

/**
 * Claims `key` for this instance (insert wins: docs/storage.md). A claim whose holder died
 * before finishing is claimed again under the next generation, so a crash never strands work.
 * Re-entrant: true when this instance already holds it.
 */
export async function claim(docs: DocStore, liveness: Liveness, key: string): Promise<boolean> {
  for (let generation = 0; generation < 20; generation++) {
    const _id = `${key}#${generation}`;
    if (await docs.insert(TAKEOVERS, { _id, holder: liveness.self, at: new Date().toISOString() } satisfies ClaimDoc)) return true;
    const held = await docs.get<ClaimDoc>(TAKEOVERS, _id);
    if (held?.holder === liveness.self) return true;
    if (held && !(await liveness.isDead(held.holder))) return false;
  }
  return false;
}
