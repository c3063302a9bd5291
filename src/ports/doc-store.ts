// A small document API for the workflow state (outbox, claims, action refs, seen events, audit,
// score requests, console inbox). Deliberately limited to what is portable (docs/storage.md): top-level
// equality/range filters, sort, limit; exclusivity only by inserting a document whose _id is the claim key.

export type Scalar = string | number | boolean | null;

export type FieldFilter = Scalar | { $in: Scalar[] } | { $nin: Scalar[] } | { $ne: Scalar } | { $lt: Scalar } | { $lte: Scalar } | { $gt: Scalar } | { $gte: Scalar } | { $gte: Scalar; $lt: Scalar } | { $gt: Scalar; $lte: Scalar } | { $gte: Scalar; $lte: Scalar };

/** Top-level fields only; all conditions must hold. */
export type Filter = Record<string, FieldFilter>;

export interface Doc {
  _id: string;
  [field: string]: unknown;
}

export interface FindOptions {
  sort?: [field: string, direction: 1 | -1][];
  limit?: number;
  /** only these top-level fields (and _id) */
  fields?: string[];
}

export interface DocStore {
  /** Inserts; false when a document with this _id exists (the portable claim primitive). */
  insert(collection: string, doc: Doc): Promise<boolean>;
  get<T extends Doc>(collection: string, id: string): Promise<T | null>;
  /** Sets top-level fields of one document; false when it does not exist. */
  update(collection: string, id: string, set: Record<string, unknown>): Promise<boolean>;
  /** Inserts or replaces the whole document. */
  put(collection: string, doc: Doc): Promise<void>;
  find<T extends Doc>(collection: string, filter: Filter, options?: FindOptions): Promise<T[]>;
  count(collection: string, filter: Filter): Promise<number>;
  remove(collection: string, id: string): Promise<boolean>;
  /** Declares an index (a no-op where the adapter scans). */
  ensureIndex(collection: string, fields: string[], unique?: boolean): Promise<void>;
}
