// The storage port. Two adapters implement it: memory (embedded default) and mongo.
// Both must pass test/store/contract.test.ts. Rules for the mongo adapter: docs/storage.md.
import type { AlertedRisk, ApprovedScore, CarriedState, PopulationModels, PopulationStats, Rollup, TierState } from '../domain/types.ts';
import type { DocStore } from './doc-store.ts';
import type { Liveness } from './liveness.ts';

/**
 * A person's account on each platform, by platform name (`feishu: { openId }`, …), and a team's chats. The
 * fields come from the platform descriptors' org schemas: src/platforms/registry.ts adds them here.
 */
export interface UserAccounts {}
export interface TeamAccounts {}

export interface OrgUser extends Partial<UserAccounts> {
  id: string;
  name: string;
  role: 'rep' | 'manager' | 'admin';
  teamId?: string;
  locale?: 'zh-CN' | 'en';
}

export interface OrgTeam extends Partial<TeamAccounts> {
  id: string;
  name: string;
  managerIds: string[];
}

export interface Org {
  users: OrgUser[];
  teams: OrgTeam[];
}

export type AttributeValue = string | number | boolean | null;

/** A customer as the source system sends it (validated before it reaches the store). */
export interface CustomerInput {
  id: string;
  name: string;
  ownerId: string;
  teamId?: string | null;
  attributes?: Record<string, AttributeValue>;
  tags?: string[];
}

/** An order as validated at the edge; money already converted to integer fen. */
export interface OrderInput {
  orderId: string;
  customerId: string;
  amountFen: number;
  marginFen: number | null;
  occurredAt: number; // epoch ms
  /** original text, kept for the record */
  occurredAtText: string;
  cancelled: boolean;
}

export interface Tally {
  total: number;
  /** evaluated customers per tier key */
  tiers: Record<string, number>;
  /** evaluated customers per risk level ('none' included) */
  risk: Record<string, number>;
}

export interface CustomerRecord {
  id: string;
  name: string;
  ownerId: string;
  teamId: string | null;
  attributes: Record<string, AttributeValue>;
  tags: string[];
  rollup: Rollup;
  state: TierState | null;
  /**
   * Set while a run is writing: the state as it was before `state.runId` touched it.
   * Re-running the same run evaluates against this, so a resumed run gives the same result.
   */
  stateBeforeRun: TierState | null;
  score: ApprovedScore | null;
  createdAt: string;
  updatedAt: string;
}

/** What evaluating a customer reads, without the rest of the record (the what-if reads only this). */
export interface EvalRow {
  id: string;
  ownerId: string;
  teamId: string | null;
  attributes: Record<string, AttributeValue>;
  score: ApprovedScore | null;
  rollup: Rollup;
  /** what the evaluation carries over from the current state, with the owner's last alert; null when never evaluated */
  current: (CarriedState & { alerted: AlertedRisk | null }) | null;
  /** stateFingerprint of the stored state (null when never evaluated) */
  fingerprint: number | null;
  /** the run that wrote the stored state (null when never evaluated) */
  writtenBy: string | null;
}

export interface CustomerFilter {
  tier?: string;
  risk?: string;
  ownerId?: string;
  teamId?: string;
  /** case-insensitive substring of name or id */
  q?: string;
  /** only the customers a person may see (see CustomerScope) */
  scope?: CustomerScope;
}

/**
 * The customers a person may see: their own, those of the teams they manage, and those without a team
 * whose owner belongs to one of those teams (a customer's team is its own, else its owner's).
 */
export interface CustomerScope {
  ownerId: string;
  teamIds: string[];
  teamlessOwnerIds: string[];
}

export interface HistoryEntry {
  customerId: string;
  from: string | null;
  to: string;
  at: string;
  runId: string;
}

export interface StateWrite {
  id: string;
  state: TierState;
  stateBeforeRun: TierState | null;
}

export interface PolicyVersion {
  version: number;
  installedAt: string;
  policy: unknown; // the validated policy object as given
}

/** `abandoned`: its instance died and a newer run superseded it, so it is never resumed */
export type RunStatus = 'running' | 'done' | 'failed' | 'abandoned';

export interface RunRecord {
  id: string;
  kind: 'recompute';
  status: RunStatus;
  asOf: string;
  policyVersion: number;
  startedAt: string;
  finishedAt: string | null;
  /** the instance running it (see app/instances.ts); a running run whose owner is dead is taken over */
  owner: string | null;
  /** refreshed after every batch; a 'running' run whose heartbeat is old was interrupted */
  heartbeatAt: string;
  /** id of the last customer whose evaluation was written (customers are processed in id order) */
  checkpoint: string | null;
  counts: { evaluated: number; changed: number; upgrades: number; downgrades: number; atRisk: number };
  /**
   * A baseline run (the first on this store, or the first of a new policy version) records risk and
   * tier changes without individual cards: people get one summary each.
   */
  baseline?: boolean;
  /** what the run will tell people when it finishes, kept with the checkpoint (JSON, opaque to stores) */
  notices?: object | null;
  /** the customer-base models this run fitted in its first pass (null: none; absent on runs before they existed) */
  models?: PopulationModels | null;
  durationMs: number | null;
  error: string | null;
}

export interface IngestResult {
  inserted: number;
  updated: number;
  duplicates: number;
  /** indexes (into the input array) of orders whose customer does not exist */
  unknownCustomer: number[];
}

export interface Store {
  readonly kind: 'memory' | 'mongo';
  /** workflow documents (outbox, claims, audit, …) in the same database; usable after init() */
  readonly docs: DocStore;
  /** idempotent: a restart on an existing database changes nothing */
  init(): Promise<void>;
  close(): Promise<void>;
  /** the instance lease work is owned under (stores that persist work in progress need it) */
  useLiveness?(liveness: Liveness): void;
  /** finishes ingest batches whose instance died midway; returns how many customers were repaired */
  repairRollups?(): Promise<number>;

  getOrg(): Promise<Org | null>;
  putOrg(org: Org): Promise<void>;

  /** insert new customers or update the descriptive fields of existing ones (never their rollup or state) */
  upsertCustomers(customers: CustomerInput[]): Promise<{ upserted: number; updated: number }>;
  getCustomer(id: string): Promise<CustomerRecord | null>;
  getCustomers(ids: string[]): Promise<CustomerRecord[]>;
  /** ordered by id; `cursor` is the last id of the previous page */
  listCustomers(filter: CustomerFilter, limit: number, cursor?: string): Promise<{ items: CustomerRecord[]; nextCursor: string | null }>;
  /** every customer in id order, in batches, starting after `afterId` */
  streamCustomers(batchSize: number, afterId?: string | null): AsyncIterable<CustomerRecord[]>;
  /**
   * every customer's rollup alone, in batches (a run's population statistics need nothing else); here and in
   * streamEvalRows a rollup may be typed-array views into one array per batch: index it, do not keep or change it
   */
  streamRollups(batchSize: number): AsyncIterable<Rollup[]>;
  /** every customer as an evaluation reads it, in id order, in batches, starting after `afterId` */
  streamEvalRows(batchSize: number, afterId?: string | null): AsyncIterable<EvalRow[]>;
  /** how many customers match (all when no filter) */
  countCustomers(filter?: CustomerFilter): Promise<number>;
  /** customers by current tier and by risk level, in one pass (the dashboard's distribution) */
  tally(filter?: Pick<CustomerFilter, 'ownerId' | 'teamId' | 'scope'>): Promise<Tally>;

  /** idempotent by orderId; keeps each customer's rollup up to date */
  ingestOrders(orders: OrderInput[]): Promise<IngestResult>;

  /** unordered bulk write of evaluations plus their history rows (history is idempotent per runId+customer) */
  writeStates(writes: StateWrite[], history: HistoryEntry[]): Promise<void>;
  setScore(customerId: string, score: ApprovedScore): Promise<void>;
  getHistory(customerId: string): Promise<HistoryEntry[]>;
  /** history rows with `at` >= since, oldest first */
  historySince(since: string, limit: number): Promise<HistoryEntry[]>;

  getPolicy(version?: number): Promise<PolicyVersion | null>;
  /** stores a new version (current max + 1) and makes it active */
  addPolicy(policy: unknown, installedAt: string): Promise<number>;
  listPolicies(): Promise<Omit<PolicyVersion, 'policy'>[]>;

  createRun(run: RunRecord): Promise<void>;
  updateRun(id: string, patch: Partial<RunRecord>): Promise<void>;
  getRun(id: string): Promise<RunRecord | null>;
  /** newest first */
  listRuns(limit: number): Promise<RunRecord[]>;

  savePopulationStats(runId: string, stats: PopulationStats): Promise<void>;
  /** stats of the given run */
  loadPopulationStats(runId: string): Promise<PopulationStats | null>;
}
