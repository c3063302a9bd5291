import type { Doc, DocStore, FieldFilter, Filter, FindOptions, Scalar } from '../../ports/doc-store.ts';

type Ops = Partial<Record<'$in' | '$nin' | '$ne' | '$lt' | '$lte' | '$gt' | '$gte', unknown>>;

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as Scalar)! < (b as Scalar)! ? -1 : 1;
}

function holds(value: unknown, cond: FieldFilter): boolean {
  if (cond === null || typeof cond !== 'object') return (value ?? null) === cond;
  const ops = cond as Ops;
  if ('$in' in ops && !(ops.$in as unknown[]).includes(value ?? null)) return false;
  if ('$nin' in ops && (ops.$nin as unknown[]).includes(value ?? null)) return false;
  if ('$ne' in ops && (value ?? null) === ops.$ne) return false;
  const ranged = ['$lt', '$lte', '$gt', '$gte'].some((k) => k in ops);
  if (ranged && (value === undefined || value === null || typeof value !== typeof (ops.$lt ?? ops.$lte ?? ops.$gt ?? ops.$gte))) return false;
  if ('$lt' in ops && !(compare(value, ops.$lt) < 0)) return false;
  if ('$lte' in ops && !(compare(value, ops.$lte) <= 0)) return false;
  if ('$gt' in ops && !(compare(value, ops.$gt) > 0)) return false;
  if ('$gte' in ops && !(compare(value, ops.$gte) >= 0)) return false;
  return true;
}

export function matches(doc: Doc, filter: Filter): boolean {
  for (const [field, cond] of Object.entries(filter)) if (!holds(doc[field], cond)) return false;
  return true;
}

/** In-process documents; values are cloned on the way in and out so callers never share state. */
export class MemoryDocStore implements DocStore {
  private readonly collections = new Map<string, Map<string, Doc>>();

  private coll(name: string): Map<string, Doc> {
    let c = this.collections.get(name);
    if (!c) this.collections.set(name, (c = new Map()));
    return c;
  }

  async insert(collection: string, doc: Doc): Promise<boolean> {
    const c = this.coll(collection);
    if (c.has(doc._id)) return false;
    c.set(doc._id, structuredClone(doc));
    return true;
  }

  async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    const d = this.coll(collection).get(id);
    return d ? (structuredClone(d) as T) : null;
  }

  async update(collection: string, id: string, set: Record<string, unknown>): Promise<boolean> {
    const d = this.coll(collection).get(id);
    if (!d) return false;
    Object.assign(d, structuredClone(set));
    return true;
  }

  async put(collection: string, doc: Doc): Promise<void> {
    this.coll(collection).set(doc._id, structuredClone(doc));
  }

  async find<T extends Doc>(collection: string, filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let out = [...this.coll(collection).values()].filter((d) => matches(d, filter));
    const sort = options.sort ?? [['_id', 1]];
    out.sort((a, b) => {
      for (const [field, dir] of sort) {
        const c = compare(a[field], b[field]);
        if (c !== 0) return c * dir;
      }
      return 0;
    });
    if (options.limit !== undefined) out = out.slice(0, options.limit);
    const fields = options.fields;
    if (fields) return out.map((d) => structuredClone(Object.fromEntries(['_id', ...fields].filter((f) => f in d).map((f) => [f, d[f]]))) as T);
    return out.map((d) => structuredClone(d) as T);
  }

  async count(collection: string, filter: Filter): Promise<number> {
    let n = 0;
    for (const d of this.coll(collection).values()) if (matches(d, filter)) n++;
    return n;
  }

  async remove(collection: string, id: string): Promise<boolean> {
    return this.coll(collection).delete(id);
  }

  async ensureIndex(): Promise<void> {}
}
