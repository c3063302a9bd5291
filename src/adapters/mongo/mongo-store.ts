// The MongoDB store (production; README "Deployment"). Portable subset only (docs/storage.md):
// plain find/insert/update/delete, bulkWrite, countDocuments, single/compound/unique indexes; no
// transactions, $expr, $lookup, findOneAndUpdate projections, Decimal128, NaN, or field names
// with '.'/'$'. Exclusive claims are inserts of a document whose _id is the claim key.
// Document shapes: see codec.ts (and the collection list below).
//
// Collections:
//   org             { _id: 'org', json }
//   customers       { _id: id, name, ownerId, teamId, attributes: [{k, v}], tags, rollup: Binary, rv,
//                     stateJson, stateBeforeRunJson, scoreJson, tier, risk, stateRunId, idLower,
//                     nameLower, createdAt, updatedAt }
//   orders          { _id: orderId, customerId, t, a, g (null = none), cancelled, occurredAtText }
//   ingestJournal   { _id: token, at (epoch ms), owner, customers: [id] }   (only while a batch is being written)
//   tierHistory     { _id: `${runId.length}:${runId}:${customerId}`, customerId, from, to, at, atMs, runId }
//   policies        { _id: version, installedAt, policyJson }
//   runs            { _id: id, ...RunRecord without id, startedAtMs }
//   popStats        { _id: runId, n, length, chunks, quintiles: null | {n, recency, frequency, monetary}, models }
//   popStatsChunks  { _id: `${runId}:${i}`, runId, i, values: Binary }   (≤ 100,000 values each)
//
// Ingest and concurrency. A batch is planned in app code (ingest-plan.ts): one find of the
// batch's customers (rollup + version `rv`), one find of its stored orders, then unordered bulk
// writes of the changed orders and of the new rollups. Two ingests touching the same customer at
// once could each apply their delta to the same old rollup (a lost update), so:
//   - every rollup write is conditional on the version read: {_id, rv: seen} -> {$set: {rollup, rv: mine}};
//   - customers whose conditional write did not match, or whose rollup lacked an entry the batch
//     had to remove, are rebuilt from the `orders` collection (the source of truth; index on
//     customerId) with rebuildRollup(), itself a read-version / read-orders / conditional-write loop;
//   - customers are read before orders and orders are written before rollups, so a rebuild that
//     follows a failed conditional write sees every order involved.
//   On MongoDB a single-document conditional update is atomic, which makes this exact. FerretDB's
//   updates are not atomic (docs/storage.md, "FerretDB 1.24 facts"), so there concurrent ingests into the same
//   customer are only best effort; FerretDB is a test server here.
//   Crash safety: before writing, a batch inserts a journal document naming its owner (this
//   instance) and the customers whose rollups it will write, and deletes it when done. A journal
//   whose owner died in between is finished by rebuilding those customers from their orders:
//   by repairRollups() (the app runs it in the background at start and on every lease tick), and
//   by any later batch that meets one of those customers again, so re-sending a batch repairs it.
import { randomBytes } from 'node:crypto';
import {
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Binary,
  type Collection,
  type Db,
  type Document,
  type FindCursor,
  type MongoClientOptions,
} from 'mongodb';
import type { ApprovedScore, PopulationModels, PopulationStats, Rollup, TierState } from '../../domain/types.ts';
import type {
  CustomerFilter,
  CustomerInput,
  CustomerRecord,
  EvalRow,
  HistoryEntry,
  IngestResult,
  Org,
  OrderInput,
  PolicyVersion,
  RunRecord,
  StateWrite,
  Store,
  Tally,
} from '../../ports/store.ts';
import { applyRollupDelta, planIngest, rollupFromOrders, type OrderTuple, type PlannedWrite } from '../shared/ingest-plan.ts';
import {
  decodeAttributes,
  decodeFloat64,
  decodeRollup,
  encodeAttributes,
  encodeFloat64,
  encodeRollup,
  escapeRegex,
  fromJson,
  toJson,
  type AttributePair,
} from './codec.ts';
import { soleOwner, type Liveness } from '../../ports/liveness.ts';
import { ensureIndexes, MongoDocStore } from './doc-store.ts';
import { stateFingerprint } from '../../domain/fingerprint.ts';
import { carriedOf } from '../shared/carried.ts';

const DUPLICATE_KEY = 11000;
/** values per population-statistics chunk document (800 kB) */
export const STATS_CHUNK = 100_000;
const REBUILD_ATTEMPTS = 20;
const ID_BATCH = 5_000;
const MOVE_ATTEMPTS = 5;
/**
 * Update statements per command on FerretDB. FerretDB 1.24 hangs on an update command with 100
 * or more statements that modify documents (observed: 99 pass, 100 never answer), so bulk updates
 * are sent in small commands there. On MongoDB the driver's own splitting applies. This batch
 * size is the only thing that depends on the server (detected once by init() via buildInfo).
 */
const FERRETDB_UPDATE_BATCH = 25;

interface IngestRead {
  /** rollup and version of every customer involved */
  rollups: Map<string, { rollup: Rollup; rv: string }>;
  /** the customers named by the batch that exist */
  named: Set<string>;
  stored: Map<string, OrderDoc>;
  /** customers to rebuild from their orders after the batch */
  rebuild: Set<string>;
}

interface CustomerDoc {
  _id: string;
  name: string;
  ownerId: string;
  teamId: string | null;
  attributes: AttributePair[];
  tags: string[];
  rollup: Binary;
  rv: string;
  stateJson: string | null;
  stateBeforeRunJson: string | null;
  scoreJson: string | null;
  tier: string | null;
  risk: string | null;
  stateRunId: string | null;
  idLower: string;
  nameLower: string;
  createdAt: string;
  updatedAt: string;
}

interface OrderDoc {
  _id: string;
  customerId: string;
  t: number;
  a: number;
  g: number | null;
  cancelled: boolean;
  occurredAtText: string;
}

interface JournalDoc {
  _id: string;
  at: number;
  /** the instance writing the batch (legacy journals have none: their owner counts as dead) */
  owner?: string;
  customers: string[];
}

interface IndexSpec {
  key: Record<string, 1 | -1>;
  name: string;
}

interface HistoryDoc extends HistoryEntry {
  _id: string;
  atMs: number;
}

interface PolicyDoc {
  _id: number;
  installedAt: string;
  policyJson: string;
}

type RunDoc = Omit<RunRecord, 'id' | 'notices'> & { _id: string; startedAtMs: number; noticesJson?: string | null };

interface StatsDoc {
  _id: string;
  n: number;
  length: number;
  chunks: number;
  quintiles: { n: number; recency: Binary; frequency: Binary; monetary: Binary } | null;
  /** absent on statistics saved before the customer-base models existed */
  models?: PopulationModels | null;
}

interface StatsChunkDoc {
  _id: string;
  runId: string;
  i: number;
  values: Binary;
}

let tokenCounter = 0;
/** unique per process and call */
function newToken(): string {
  tokenCounter = (tokenCounter + 1) % 0x1000000;
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}-${tokenCounter.toString(36)}`;
}

function instant(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? -8.64e15 : ms; // BSON doubles cannot be -Infinity on FerretDB
}

function unique<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** write errors of an unordered bulk write, or null when the error is something else */
function bulkWriteErrors(err: unknown): { index: number; code: number }[] | null {
  if (!(err instanceof MongoBulkWriteError)) return null;
  const list = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return list.map((e) => ({ index: e.index, code: e.code }));
}

function historyKey(runId: string, customerId: string): string {
  return `${runId.length}:${runId}:${customerId}`;
}

export class MongoStore implements Store {
  readonly kind = 'mongo' as const;
  readonly client: MongoClient;
  readonly db: Db;
  readonly docs: MongoDocStore;
  /** most update statements sent in one command (see FERRETDB_UPDATE_BATCH); safe until init() knows */
  private updateBatch = FERRETDB_UPDATE_BATCH;
  /** how many rollups this instance rebuilt from orders (repairs; 0 when nothing raced or broke) */
  rebuilds = 0;
  /** whose journals are whose: set by the app to its instance lease (see useLiveness) */
  private liveness: Liveness = soleOwner(`store-${newToken()}`);

  /**
   * `clientOptions` go to the MongoClient (e.g. `monitorCommands: true` for a test that counts the
   * store's commands); `ignoreUndefined` is always on, the codec depends on it.
   */
  constructor(uri: string, dbName: string, options: { clientOptions?: MongoClientOptions } = {}) {
    // ignoreUndefined: an optional field left undefined is omitted, not stored as null
    this.client = new MongoClient(uri, { ...options.clientOptions, ignoreUndefined: true });
    this.db = this.client.db(dbName);
    this.docs = new MongoDocStore(this.db);
  }

  private get org() {
    return this.db.collection<{ _id: string; json: string }>('org');
  }
  private get customers(): Collection<CustomerDoc> {
    return this.db.collection<CustomerDoc>('customers');
  }
  private get orders(): Collection<OrderDoc> {
    return this.db.collection<OrderDoc>('orders');
  }
  private get journal(): Collection<JournalDoc> {
    return this.db.collection<JournalDoc>('ingestJournal');
  }
  private get history(): Collection<HistoryDoc> {
    return this.db.collection<HistoryDoc>('tierHistory');
  }
  private get policies(): Collection<PolicyDoc> {
    return this.db.collection<PolicyDoc>('policies');
  }
  private get runs(): Collection<RunDoc> {
    return this.db.collection<RunDoc>('runs');
  }
  private get stats(): Collection<StatsDoc> {
    return this.db.collection<StatsDoc>('popStats');
  }
  private get statsChunks(): Collection<StatsChunkDoc> {
    return this.db.collection<StatsChunkDoc>('popStatsChunks');
  }

  async init(): Promise<void> {
    await this.client.connect();
    const info = await this.db.admin().command({ buildInfo: 1 });
    this.updateBatch = 'ferretdbVersion' in info ? FERRETDB_UPDATE_BATCH : Number.MAX_SAFE_INTEGER;
    // one index per command, and only the missing ones: FerretDB 1.24 panics on a createIndexes
    // that lists two or more existing indexes, so a restart must not repeat them
    const indexes: [Collection<never>, IndexSpec[]][] = [
      [this.customers as never, [
        { key: { tier: 1, _id: 1 }, name: 'tier_id' },
        { key: { risk: 1, _id: 1 }, name: 'risk_id' },
        { key: { ownerId: 1, _id: 1 }, name: 'owner_id' },
        { key: { teamId: 1, _id: 1 }, name: 'team_id' },
        { key: { stateRunId: 1 }, name: 'stateRunId' },
      ]],
      [this.orders as never, [{ key: { customerId: 1 }, name: 'customerId' }]],
      [this.journal as never, [{ key: { customers: 1 }, name: 'customers' }]],
      [this.history as never, [
        { key: { customerId: 1, atMs: 1 }, name: 'customer_at' },
        { key: { atMs: 1, customerId: 1 }, name: 'at_customer' },
      ]],
      [this.runs as never, [{ key: { startedAtMs: -1, _id: -1 }, name: 'started' }]],
      [this.statsChunks as never, [{ key: { runId: 1, i: 1 }, name: 'run_i' }]],
    ];
    for (const [col, specs] of indexes) await ensureIndexes(col, specs);
  }

  /** The instance lease the app runs under: journals name it as their owner. */
  useLiveness(liveness: Liveness): void {
    this.liveness = liveness;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  // --- org ---------------------------------------------------------------------------------

  async getOrg(): Promise<Org | null> {
    const doc = await this.org.findOne({ _id: 'org' });
    return doc ? fromJson<Org>(doc.json) : null;
  }

  async putOrg(org: Org): Promise<void> {
    await this.org.replaceOne({ _id: 'org' }, { json: JSON.stringify(org) }, { upsert: true });
  }

  // --- customers ---------------------------------------------------------------------------

  async upsertCustomers(customers: CustomerInput[]): Promise<{ upserted: number; updated: number }> {
    if (customers.length === 0) return { upserted: 0, updated: 0 };
    const now = new Date().toISOString();
    const last = new Map<string, CustomerInput>(); // duplicates in one batch: the last one wins
    for (const c of customers) last.set(c.id, c);
    const ops = [...last.values()].map((c): AnyBulkWriteOperation<CustomerDoc> => ({
      updateOne: {
        filter: { _id: c.id },
        update: {
          $set: {
            name: c.name,
            nameLower: c.name.toLowerCase(),
            ownerId: c.ownerId,
            teamId: c.teamId ?? null,
            attributes: encodeAttributes(c.attributes),
            tags: c.tags ?? [],
            updatedAt: now,
          },
          $setOnInsert: {
            idLower: c.id.toLowerCase(),
            rollup: encodeRollup({ t: [], a: [], g: [] }),
            rv: newToken(),
            stateJson: null,
            stateBeforeRunJson: null,
            scoreJson: null,
            tier: null,
            risk: null,
            stateRunId: null,
            createdAt: now,
          },
        },
        upsert: true,
      },
    }));
    const r = await this.bulkUpdate(this.customers, ops, true);
    const upserted = r.upserted;
    const matched = r.matched;
    return { upserted, updated: matched + (customers.length - last.size) };
  }

  async getCustomer(id: string): Promise<CustomerRecord | null> {
    const doc = await this.customers.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  async getCustomers(ids: string[]): Promise<CustomerRecord[]> {
    const byId = new Map<string, CustomerRecord>();
    for (const part of chunks(unique(ids), ID_BATCH)) {
      // one reply for the lot (the driver's default first batch is 101 documents, then a getMore per 101)
      for (const doc of await this.customers.find({ _id: { $in: part } }).batchSize(part.length).toArray()) byId.set(doc._id, toRecord(doc));
    }
    const out: CustomerRecord[] = [];
    for (const id of ids) {
      const r = byId.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  async listCustomers(filter: CustomerFilter, limit: number, cursor?: string): Promise<{ items: CustomerRecord[]; nextCursor: string | null }> {
    const q = customerQuery(filter);
    if (cursor !== undefined && cursor !== null) q._id = { $gt: cursor };
    const n = Math.max(0, Math.floor(limit));
    if (n === 0) return { items: [], nextCursor: null };
    const docs = await this.customers.find(q).sort({ _id: 1 }).limit(n + 1).toArray();
    const items = docs.slice(0, n).map(toRecord);
    return { items, nextCursor: docs.length > n ? items[items.length - 1].id : null };
  }

  async *streamCustomers(batchSize: number, afterId?: string | null): AsyncIterable<CustomerRecord[]> {
    const size = Math.max(1, Math.floor(batchSize));
    // One cursor in _id order, read batch by batch: a single index walk on MongoDB, and a single scan
    // on servers that cannot push a range down (FerretDB), where re-querying per page would be quadratic.
    // Each getMore resets the server's idle timer, so a long recompute keeps its cursor.
    yield* inBatches(this.customers.find(afterId ? { _id: { $gt: afterId } } : {}).sort({ _id: 1 }).batchSize(size), size, toRecord);
  }

  async *streamRollups(batchSize: number): AsyncIterable<Rollup[]> {
    const size = Math.max(1, Math.floor(batchSize));
    yield* inBatches(this.customers.find({}, { projection: { rollup: 1 } }).sort({ _id: 1 }).batchSize(size), size, (doc) => decodeRollup(doc.rollup));
  }

  async *streamEvalRows(batchSize: number, afterId?: string | null): AsyncIterable<EvalRow[]> {
    const size = Math.max(1, Math.floor(batchSize));
    const projection = { ownerId: 1, teamId: 1, attributes: 1, scoreJson: 1, rollup: 1, stateJson: 1 };
    yield* inBatches(this.customers.find(afterId ? { _id: { $gt: afterId } } : {}, { projection }).sort({ _id: 1 }).batchSize(size), size, toEvalRow);
  }

  async countCustomers(filter?: CustomerFilter): Promise<number> {
    return this.customers.countDocuments(filter ? customerQuery(filter) : {});
  }

  async tally(filter: Pick<CustomerFilter, 'ownerId' | 'teamId' | 'scope'> = {}): Promise<Tally> {
    const groups = await this.customers
      .aggregate<{ _id: { tier: string | null; risk: string | null }; n: number }>([
        { $match: customerQuery(filter) },
        { $group: { _id: { tier: '$tier', risk: '$risk' }, n: { $sum: 1 } } },
      ])
      .toArray();
    const out: Tally = { total: 0, tiers: {}, risk: {} };
    for (const g of groups) {
      out.total += g.n;
      const { tier, risk } = g._id;
      // customers never evaluated have neither field
      if (tier === null || tier === undefined) continue;
      out.tiers[tier] = (out.tiers[tier] ?? 0) + g.n;
      if (risk !== null && risk !== undefined) out.risk[risk] = (out.risk[risk] ?? 0) + g.n;
    }
    return out;
  }

  // --- orders ------------------------------------------------------------------------------

  async ingestOrders(orders: OrderInput[]): Promise<IngestResult> {
    if (orders.length === 0) return { inserted: 0, updated: 0, duplicates: 0, unknownCustomer: [] };
    const token = newToken();
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.loadForIngest(orders, attempt >= MOVE_ATTEMPTS);
      if (loaded) return this.applyIngest(orders, token, loaded);
    }
  }

  /**
   * Reads what a batch needs, in an order that makes concurrent ingests safe (see the top):
   * the batch's customers first, then its stored orders, then the customers that orders move
   * away from. If the moving orders changed meanwhile the read is retried (null), except on the
   * last attempt, where those customers are simply rebuilt afterwards.
   */
  private async loadForIngest(orders: OrderInput[], last: boolean): Promise<IngestRead | null> {
    // 1. the customers of the batch: existence, rollup and its version
    const rollups = await this.loadRollups(unique(orders.map((o) => o.customerId)));

    // 2. the stored orders of the batch
    const stored = await this.findOrders(unique(orders.map((o) => o.orderId)));
    const rebuild = new Set<string>();

    // 3. customers that orders move away from
    const named = new Set(rollups.keys());
    const moving = [...stored.values()].filter((d) => !named.has(d.customerId));
    if (moving.length > 0) {
      for (const [id, r] of await this.loadRollups(unique(moving.map((d) => d.customerId)))) rollups.set(id, r);
      const again = await this.findOrders(moving.map((d) => d._id));
      const changed = moving.filter((d) => {
        const now = again.get(d._id);
        return !now || now.customerId !== d.customerId || now.t !== d.t || now.a !== d.a || now.g !== d.g || now.cancelled !== d.cancelled;
      });
      if (changed.length > 0) {
        if (!last) return null;
        for (const d of changed) rebuild.add(d.customerId);
      }
    }
    return { rollups, named, stored, rebuild };
  }

  private async findOrders(ids: string[]): Promise<Map<string, OrderDoc>> {
    const out = new Map<string, OrderDoc>();
    for (const part of chunks(ids, ID_BATCH)) {
      for (const d of await this.orders.find({ _id: { $in: part } }).toArray()) out.set(d._id, d);
    }
    return out;
  }

  private async applyIngest(orders: OrderInput[], token: string, read: IngestRead): Promise<IngestResult> {
    const { rollups, named, stored, rebuild } = read;
    const plan = planIngest(
      orders,
      (orderId): OrderTuple | undefined => {
        const d = stored.get(orderId);
        return d ? { customerId: d.customerId, t: d.t, a: d.a, g: d.g === null ? NaN : d.g, cancelled: d.cancelled } : undefined;
      },
      (customerId) => named.has(customerId),
    );

    // a batch that died after storing its orders left rollups behind: meeting its customers again repairs them
    if (plan.result.duplicates > 0) for (const id of await this.customersOfDeadJournals([...named])) rebuild.add(id);

    // 4. the journal (crash safety), then the orders (before the rollups, so a rebuild after a
    //    failed rollup write sees them): new ones by insert (fast everywhere), changed ones by replace
    const journaled = plan.deltas.size > 0;
    if (journaled) await this.journal.insertOne({ _id: token, at: Date.now(), owner: this.liveness.self, customers: [...plan.deltas.keys()] });
    if (plan.writes.size > 0) {
      const docOf = (orderId: string, w: PlannedWrite): OrderDoc => {
        const x = w.tuple;
        return { _id: orderId, customerId: x.customerId, t: x.t, a: x.a, g: x.g !== x.g ? null : x.g, cancelled: x.cancelled, occurredAtText: w.input.occurredAtText };
      };
      const inserts: OrderDoc[] = [];
      const replaces: OrderDoc[] = [];
      for (const [orderId, w] of plan.writes) (w.existed ? replaces : inserts).push(docOf(orderId, w));
      if (inserts.length > 0) {
        try {
          await this.orders.insertMany(inserts, { ordered: false });
        } catch (err) {
          // another ingest stored some of these orders meanwhile: ours is the later write, and the
          // customers involved are rebuilt from the orders once everything is written
          const errors = bulkWriteErrors(err);
          if (!errors || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
          for (const e of errors) {
            const d = inserts[e.index];
            replaces.push(d);
            rebuild.add(d.customerId);
            const other = await this.orders.findOne({ _id: d._id }, { projection: { customerId: 1 } });
            if (other) rebuild.add(other.customerId);
          }
        }
      }
      if (replaces.length > 0) {
        await this.bulkUpdate(
          this.orders,
          replaces.map((d): AnyBulkWriteOperation<OrderDoc> => {
            const { _id, ...replacement } = d;
            return { replaceOne: { filter: { _id }, replacement, upsert: true } };
          }),
        );
      }
    }

    // 5. rollups, each conditional on the version read in step 1
    const written: string[] = [];
    if (plan.deltas.size > 0) {
      const ops: AnyBulkWriteOperation<CustomerDoc>[] = [];
      for (const [customerId, delta] of plan.deltas) {
        const cur = rollups.get(customerId);
        if (!cur) {
          rebuild.add(customerId);
          continue;
        }
        const { rollup, missing } = applyRollupDelta(cur.rollup, delta);
        if (missing > 0) {
          rebuild.add(customerId); // the stored rollup disagreed with the orders
          continue;
        }
        written.push(customerId);
        ops.push({ updateOne: { filter: { _id: customerId, rv: cur.rv }, update: { $set: { rollup: encodeRollup(rollup), rv: token } } } });
      }
      if (ops.length > 0) {
        const r = await this.bulkUpdate(this.customers, ops);
        if (r.matched < ops.length) {
          // someone else wrote some of these rollups meanwhile: find which, and rebuild them
          for (const part of chunks(written, ID_BATCH)) {
            const docs = await this.customers.find({ _id: { $in: part } }, { projection: { rv: 1 } }).toArray();
            for (const d of docs) if (d.rv !== token) rebuild.add(d._id);
          }
        }
      }
    }

    // 6. repairs, then the journal goes
    for (const customerId of rebuild) await this.rebuildRollup(customerId);
    if (journaled) await this.journal.deleteOne({ _id: token });
    return plan.result;
  }

  /**
   * Recomputes a customer's rollup from its orders (the repair path). Returns false when the
   * customer does not exist. Safe to run at any time, also while ingests are running.
   */
  async rebuildRollup(customerId: string): Promise<boolean> {
    for (let attempt = 0; attempt < REBUILD_ATTEMPTS; attempt++) {
      const doc = await this.customers.findOne({ _id: customerId }, { projection: { rv: 1 } });
      if (!doc) return false;
      const orders = await this.orders
        .find({ customerId }, { projection: { t: 1, a: 1, g: 1, cancelled: 1 } })
        .toArray();
      const rollup = rollupFromOrders(
        orders.filter((o) => !o.cancelled).map((o) => ({ t: o.t, a: o.a, g: o.g === null || o.g === undefined ? NaN : o.g })),
      );
      const r = await this.customers.updateOne({ _id: customerId, rv: doc.rv }, { $set: { rollup: encodeRollup(rollup), rv: newToken() } });
      if (r.matchedCount === 1) {
        this.rebuilds++;
        return true;
      }
    }
    throw new Error(`rebuildRollup(${customerId}): the rollup kept changing, gave up after ${REBUILD_ATTEMPTS} attempts`);
  }

  /** Customers among `ids` named by a journal whose owner died before finishing its batch. */
  private async customersOfDeadJournals(ids: string[]): Promise<string[]> {
    const wanted = new Set(ids);
    const out = new Set<string>();
    for (const part of chunks(ids, ID_BATCH)) {
      const journals = await this.journal.find({ customers: { $in: part } }, { projection: { owner: 1, customers: 1 } }).toArray();
      for (const j of journals) {
        if (j.owner === this.liveness.self || !(await this.liveness.isDead(j.owner))) continue;
        for (const id of j.customers) if (wanted.has(id)) out.add(id);
      }
    }
    return [...out];
  }

  /**
   * Finishes the batches of ingests whose instance died between writing orders and rollups:
   * rebuilds the customers their journals name from the orders, then removes the journals.
   * Journals of live instances are left alone. Returns how many customers were rebuilt.
   */
  async repairRollups(): Promise<number> {
    const journals = await this.journal.find({}, { projection: { owner: 1 } }).toArray();
    let rebuilt = 0;
    for (const { _id, owner } of journals) {
      if (owner === this.liveness.self || !(await this.liveness.isDead(owner))) continue;
      const j = await this.journal.findOne({ _id });
      if (!j) continue; // another instance finished it meanwhile
      rebuilt += await this.rebuildRollups(j.customers);
      await this.journal.deleteOne({ _id });
    }
    return rebuilt;
  }

  /** rebuildRollup for many customers, with a constant number of commands per chunk of them. */
  async rebuildRollups(ids: string[]): Promise<number> {
    let rebuilt = 0;
    for (const part of chunks(unique(ids), 500)) {
      const versions = await this.customers.find({ _id: { $in: part } }, { projection: { rv: 1 } }).toArray();
      const orders = new Map<string, { t: number; a: number; g: number }[]>(versions.map((d) => [d._id, []]));
      const cursor = this.orders.find({ customerId: { $in: part }, cancelled: false }, { projection: { customerId: 1, t: 1, a: 1, g: 1 } });
      for await (const o of cursor) orders.get(o.customerId)?.push({ t: o.t, a: o.a, g: o.g === null || o.g === undefined ? NaN : o.g });
      const mine = new Map(versions.map((d) => [d._id, newToken()]));
      const ops = versions.map((d): AnyBulkWriteOperation<CustomerDoc> => ({
        updateOne: { filter: { _id: d._id, rv: d.rv }, update: { $set: { rollup: encodeRollup(rollupFromOrders(orders.get(d._id)!)), rv: mine.get(d._id)! } } },
      }));
      const r = ops.length > 0 ? await this.bulkUpdate(this.customers, ops) : { matched: 0 };
      rebuilt += r.matched;
      this.rebuilds += r.matched;
      if (r.matched < ops.length) {
        // some changed while we read: those go one by one, each in its own read/compare loop
        const now = await this.customers.find({ _id: { $in: [...mine.keys()] } }, { projection: { rv: 1 } }).toArray();
        for (const d of now) if (d.rv !== mine.get(d._id) && (await this.rebuildRollup(d._id))) rebuilt++;
      }
    }
    return rebuilt;
  }

  /**
   * Unordered bulk update/replace, in commands of at most `updateBatch` statements.
   * With `retryDuplicates`, upserts that lost a race for a new _id (duplicate key: another writer
   * inserted it meanwhile) are sent once more, now as updates of the existing document.
   */
  private async bulkUpdate<T extends Document>(
    col: Collection<T>,
    ops: AnyBulkWriteOperation<T>[],
    retryDuplicates = false,
  ): Promise<{ matched: number; upserted: number }> {
    let matched = 0;
    let upserted = 0;
    for (const part of chunks(ops, this.updateBatch)) {
      try {
        const r = await col.bulkWrite(part, { ordered: false });
        matched += r.matchedCount;
        upserted += r.upsertedCount;
      } catch (err) {
        const errors = bulkWriteErrors(err);
        if (!retryDuplicates || !errors || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
        const r = (err as MongoBulkWriteError).result;
        matched += r.matchedCount;
        upserted += r.upsertedCount;
        const again = await col.bulkWrite(errors.map((e) => part[e.index]), { ordered: false });
        matched += again.matchedCount;
        upserted += again.upsertedCount;
      }
    }
    return { matched, upserted };
  }

  private async loadRollups(ids: string[]): Promise<Map<string, { rollup: Rollup; rv: string }>> {
    const out = new Map<string, { rollup: Rollup; rv: string }>();
    for (const part of chunks(ids, ID_BATCH)) {
      const docs = await this.customers.find({ _id: { $in: part } }, { projection: { rollup: 1, rv: 1 } }).toArray();
      for (const d of docs) out.set(d._id, { rollup: decodeRollup(d.rollup), rv: d.rv });
    }
    return out;
  }

  // --- evaluations -------------------------------------------------------------------------

  async writeStates(writes: StateWrite[], history: HistoryEntry[]): Promise<void> {
    if (writes.length > 0) {
      await this.bulkUpdate(
        this.customers,
        writes.map((w): AnyBulkWriteOperation<CustomerDoc> => ({
          updateOne: {
            filter: { _id: w.id },
            update: {
              $set: {
                stateJson: toJson(w.state),
                stateBeforeRunJson: toJson(w.stateBeforeRun),
                tier: w.state.tier,
                risk: w.state.risk.level,
                stateRunId: w.state.runId,
              },
            },
          },
        })),
      );
    }
    if (history.length > 0) {
      // one row per (run, customer): a repeated row (also within this call) leaves the first one
      try {
        await this.history.insertMany(
          history.map((h) => ({ _id: historyKey(h.runId, h.customerId), customerId: h.customerId, from: h.from, to: h.to, at: h.at, atMs: instant(h.at), runId: h.runId })),
          { ordered: false },
        );
      } catch (err) {
        // a re-run of the same run writes the same rows again: the first write stands
        const errors = bulkWriteErrors(err);
        if (!errors || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
      }
    }
  }

  async setScore(customerId: string, score: ApprovedScore): Promise<void> {
    await this.customers.updateOne({ _id: customerId }, { $set: { scoreJson: toJson(score) } });
  }

  async getHistory(customerId: string): Promise<HistoryEntry[]> {
    const docs = await this.history.find({ customerId }).sort({ atMs: 1, runId: 1 }).toArray();
    return docs.map(plainHistory);
  }

  async historySince(since: string, limit: number): Promise<HistoryEntry[]> {
    const n = Math.max(0, Math.floor(limit));
    if (n === 0) return [];
    const docs = await this.history
      .find({ atMs: { $gte: instant(since) } })
      .sort({ atMs: 1, customerId: 1, runId: 1 })
      .limit(n)
      .toArray();
    return docs.map(plainHistory);
  }

  // --- policies ----------------------------------------------------------------------------

  async getPolicy(version?: number): Promise<PolicyVersion | null> {
    const doc =
      version === undefined
        ? (await this.policies.find({}).sort({ _id: -1 }).limit(1).toArray())[0]
        : await this.policies.findOne({ _id: version });
    return doc ? { version: doc._id, installedAt: doc.installedAt, policy: JSON.parse(doc.policyJson) } : null;
  }

  async addPolicy(policy: unknown, installedAt: string): Promise<number> {
    const policyJson = JSON.stringify(policy);
    for (;;) {
      const latest = (await this.policies.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).toArray())[0];
      const version = (latest?._id ?? 0) + 1;
      try {
        // the version number is claimed by inserting it as _id: a concurrent writer gets 11000
        await this.policies.insertOne({ _id: version, installedAt, policyJson });
        return version;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
  }

  async listPolicies(): Promise<Omit<PolicyVersion, 'policy'>[]> {
    const docs = await this.policies.find({}, { projection: { installedAt: 1 } }).sort({ _id: 1 }).toArray();
    return docs.map((d) => ({ version: d._id, installedAt: d.installedAt }));
  }

  // --- runs --------------------------------------------------------------------------------

  async createRun(run: RunRecord): Promise<void> {
    const { id, notices, ...rest } = run;
    await this.runs.insertOne({ ...rest, _id: id, startedAtMs: instant(run.startedAt), noticesJson: toJson(notices ?? null) });
  }

  async updateRun(id: string, patch: Partial<RunRecord>): Promise<void> {
    const { id: _ignored, notices, ...rest } = patch;
    const set: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) set[k] = v;
    // keys of the notice book are user and team ids, which may hold '.' or '$': stored as JSON text
    if (notices !== undefined) set.noticesJson = toJson(notices);
    if (typeof set.startedAt === 'string') set.startedAtMs = instant(set.startedAt);
    if (Object.keys(set).length > 0) await this.runs.updateOne({ _id: id }, { $set: set });
    if (patch.status === 'done') {
      // the run is over: nobody re-runs it, so the states it saved for re-runs are released
      await this.customers.updateMany({ stateRunId: id, stateBeforeRunJson: { $ne: null } }, { $set: { stateBeforeRunJson: null } });
    }
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const doc = await this.runs.findOne({ _id: id });
    return doc ? toRun(doc) : null;
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    const n = Math.max(0, Math.floor(limit));
    if (n === 0) return [];
    const docs = await this.runs.find({}).sort({ startedAtMs: -1, _id: -1 }).limit(n).toArray();
    return docs.map(toRun);
  }

  // --- population statistics ---------------------------------------------------------------

  async savePopulationStats(runId: string, stats: PopulationStats): Promise<void> {
    const values = stats.monetaryDesc;
    const count = Math.ceil(values.length / STATS_CHUNK);
    // chunks first, the header last: a header means the chunks it names are complete
    await this.stats.deleteOne({ _id: runId });
    for (let i = 0; i < count; i++) {
      const part = values.subarray(i * STATS_CHUNK, Math.min(values.length, (i + 1) * STATS_CHUNK));
      await this.statsChunks.replaceOne({ _id: `${runId}:${i}` }, { runId, i, values: encodeFloat64(part) }, { upsert: true });
    }
    await this.statsChunks.deleteMany({ runId, i: { $gte: count } });
    const q = stats.quintiles;
    await this.stats.replaceOne(
      { _id: runId },
      {
        n: stats.n,
        length: values.length,
        chunks: count,
        quintiles: q
          ? { n: q.n, recency: encodeFloat64(q.recency), frequency: encodeFloat64(q.frequency), monetary: encodeFloat64(q.monetary) }
          : null,
        // plain numbers and booleans: BSON doubles keep them exactly
        models: stats.models ?? null,
      },
      { upsert: true },
    );
  }

  async loadPopulationStats(runId: string): Promise<PopulationStats | null> {
    const head = await this.stats.findOne({ _id: runId });
    if (!head) return null;
    const monetaryDesc = new Float64Array(head.length);
    let filled = 0;
    for (let i = 0; i < head.chunks; i++) {
      const chunk = await this.statsChunks.findOne({ _id: `${runId}:${i}` });
      if (!chunk) throw new Error(`population statistics of run ${runId}: chunk ${i} of ${head.chunks} is missing`);
      const part = decodeFloat64(chunk.values);
      monetaryDesc.set(part, i * STATS_CHUNK);
      filled += part.length;
    }
    if (filled !== head.length) throw new Error(`population statistics of run ${runId}: ${filled} of ${head.length} values found`);
    const q = head.quintiles;
    return {
      n: head.n,
      monetaryDesc,
      quintiles: q
        ? { n: q.n, recency: Array.from(decodeFloat64(q.recency)), frequency: Array.from(decodeFloat64(q.frequency)), monetary: Array.from(decodeFloat64(q.monetary)) }
        : null,
      models: head.models ?? null,
    };
  }
}

function customerQuery(f: CustomerFilter): Document {
  const q: Document = {};
  if (f.tier !== undefined) q.tier = f.tier;
  if (f.risk !== undefined) q.risk = f.risk;
  if (f.ownerId !== undefined) q.ownerId = f.ownerId;
  if (f.teamId !== undefined) q.teamId = f.teamId;
  const any: Document[] = [];
  if (f.q !== undefined && f.q !== '') {
    // a literal, case-insensitive substring: both sides lower-cased the same way as the memory store
    const re = escapeRegex(f.q.toLowerCase());
    any.push({ $or: [{ idLower: { $regex: re } }, { nameLower: { $regex: re } }] });
  }
  if (f.scope !== undefined) {
    const s = f.scope;
    any.push({ $or: [{ ownerId: s.ownerId }, { teamId: { $in: s.teamIds } }, { teamId: null, ownerId: { $in: s.teamlessOwnerIds } }] });
  }
  if (any.length === 1) Object.assign(q, any[0]);
  else if (any.length > 1) q.$and = any;
  return q;
}

/** A cursor's documents mapped and grouped `size` at a time; the cursor is closed however the loop ends. */
async function* inBatches<D, T>(cursor: FindCursor<D>, size: number, map: (doc: D) => T): AsyncGenerator<T[]> {
  try {
    let batch: T[] = [];
    for await (const doc of cursor) {
      batch.push(map(doc));
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    await cursor.close();
  }
}

function toRecord(d: CustomerDoc): CustomerRecord {
  return {
    id: d._id,
    name: d.name,
    ownerId: d.ownerId,
    teamId: d.teamId ?? null,
    attributes: decodeAttributes(d.attributes),
    tags: d.tags ?? [],
    rollup: decodeRollup(d.rollup),
    state: fromJson<TierState>(d.stateJson),
    stateBeforeRun: fromJson<TierState>(d.stateBeforeRunJson),
    score: fromJson<ApprovedScore>(d.scoreJson),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

function toEvalRow(d: CustomerDoc): EvalRow {
  const state = fromJson<TierState>(d.stateJson);
  return {
    id: d._id,
    ownerId: d.ownerId,
    teamId: d.teamId ?? null,
    attributes: decodeAttributes(d.attributes),
    score: fromJson<ApprovedScore>(d.scoreJson),
    rollup: decodeRollup(d.rollup),
    current: state && carriedOf(state),
    fingerprint: state && stateFingerprint(state),
    writtenBy: state?.runId ?? null,
  };
}

function plainHistory(d: HistoryDoc): HistoryEntry {
  return { customerId: d.customerId, from: d.from ?? null, to: d.to, at: d.at, runId: d.runId };
}

function toRun(d: RunDoc): RunRecord {
  const { _id, startedAtMs: _ms, noticesJson, ...rest } = d;
  const notices = fromJson<object>(noticesJson ?? null);
  return { id: _id, ...rest, ...(notices ? { notices } : {}) } as RunRecord;
}
