import { MongoServerError, type Collection, type Db, type Document } from 'mongodb';
import type { Doc, DocStore, Filter, FindOptions } from '../../ports/doc-store.ts';

const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;

/**
 * Creates the indexes a collection lacks, one per command. Idempotent on every supported server:
 * FerretDB 1.24 panics on a createIndexes command that lists two or more existing indexes, so
 * existing ones (by name) are never sent again.
 */
export async function ensureIndexes(col: Collection<never>, specs: { key: Record<string, 1 | -1>; name: string; unique?: boolean }[]): Promise<void> {
  let existing: Set<string>;
  try {
    existing = new Set((await col.listIndexes().toArray()).map((i) => String(i.name)));
  } catch (err) {
    if (!(err instanceof MongoServerError && err.code === NAMESPACE_NOT_FOUND)) throw err;
    existing = new Set();
  }
  for (const spec of specs) {
    if (existing.has(spec.name)) continue;
    await col.createIndex(spec.key, { name: spec.name, ...(spec.unique ? { unique: true } : {}) });
  }
}

/** The document API over a MongoDB database, within the portable subset (docs/storage.md). */
export class MongoDocStore implements DocStore {
  constructor(private readonly db: Db) {}

  private coll(name: string) {
    return this.db.collection<Document>(name);
  }

  async insert(collection: string, doc: Doc): Promise<boolean> {
    try {
      await this.coll(collection).insertOne(doc as Document);
      return true;
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    return (await this.coll(collection).findOne({ _id: id as never })) as T | null;
  }

  async update(collection: string, id: string, set: Record<string, unknown>): Promise<boolean> {
    const r = await this.coll(collection).updateOne({ _id: id as never }, { $set: set });
    return r.matchedCount > 0;
  }

  async put(collection: string, doc: Doc): Promise<void> {
    await this.coll(collection).replaceOne({ _id: doc._id as never }, doc as Document, { upsert: true });
  }

  async find<T extends Doc>(collection: string, filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.coll(collection).find(filter as Document, options.fields ? { projection: Object.fromEntries(options.fields.map((f) => [f, 1])) } : {});
    cursor = cursor.sort(Object.fromEntries(options.sort ?? [['_id', 1]]));
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    return (await cursor.toArray()) as unknown as T[];
  }

  async count(collection: string, filter: Filter): Promise<number> {
    return this.coll(collection).countDocuments(filter as Document);
  }

  async remove(collection: string, id: string): Promise<boolean> {
    return (await this.coll(collection).deleteOne({ _id: id as never })).deletedCount > 0;
  }

  async ensureIndex(collection: string, fields: string[], unique = false): Promise<void> {
    const name = `${fields.join('_')}${unique ? '_unique' : ''}`;
    await ensureIndexes(this.coll(collection) as unknown as Collection<never>, [{ key: Object.fromEntries(fields.map((f) => [f, 1 as const])), name, unique }]);
  }
}
