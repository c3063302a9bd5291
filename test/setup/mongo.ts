// Helpers for tests that need a real MongoDB-wire server.
//
// The global setup (test/setup/global-setup.ts) starts or finds ONE server for the
// whole run and provides its URI; every test file picks its own fresh database on it.
//
//   import { describeMongo, useMongoTestDb } from '../setup/mongo.ts';
//
//   describeMongo('mongo store', () => {
//     const mongo = useMongoTestDb();          // beforeAll: connect; afterAll: drop db + close
//     it('works', async () => {
//       await mongo.db.collection('x').insertOne({ _id: 'a' });
//     });
//   });
//
// Or, to build your own client (e.g. the app's store from a URI + db name):
//
//   const t = mongoTestDb();                   // { uri, dbName } | null when no server
//
// Keep to the portable subset of docs/storage.md: the server may be FerretDB.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';

/** URI of the run's MongoDB-wire server, or '' when none is available (suites skip). */
export const mongoUri: string = inject('mongoUri') ?? '';

/** True when a MongoDB-wire server is available for this run. */
export const hasMongo: boolean = mongoUri !== '';

/** `describe` when a server is available, `describe.skip` otherwise. */
export const describeMongo = describe.skipIf(!hasMongo);

let counter = 0;

/** The current test file's name without `.test.ts`, for readable database names. */
function fileLabel(): string {
  try {
    const p = expect.getState().testPath;
    return p ? basename(p).replace(/\.test\.[cm]?[jt]sx?$/, '') : 'test';
  } catch {
    return 'test';
  }
}

/**
 * A fresh, unique database name on the run's server (nothing is created until first write),
 * or null when there is no server. Names are safe for FerretDB: [A-Za-z0-9_-], ≤ 63 chars:
 * `t_<label or test file name>_<pid>_<counter>_<random>`.
 */
export function mongoTestDb(label?: string): { uri: string; dbName: string } | null {
  if (!hasMongo) return null;
  counter += 1;
  const safe = (label ?? fileLabel()).replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 24) || 'test';
  const unique = `${process.pid.toString(36)}_${counter.toString(36)}_${randomBytes(4).toString('hex')}`;
  return { uri: mongoUri, dbName: `t_${safe}_${unique}`.slice(0, 63) };
}

export interface MongoTestHandle {
  readonly uri: string;
  readonly dbName: string;
  readonly client: MongoClient;
  readonly db: Db;
}

/**
 * Registers beforeAll/afterAll in the current suite: connects a client to a fresh database
 * and drops that database (and closes the client) afterwards. Use inside `describeMongo`.
 * Accessing the handle's fields before beforeAll ran (or without a server) throws.
 */
export function useMongoTestDb(label?: string, options?: MongoClientOptions): MongoTestHandle {
  let state: { uri: string; dbName: string; client: MongoClient; db: Db } | null = null;
  const get = () => {
    if (!state) throw new Error('useMongoTestDb: no database yet (no server, or used outside a test/hook)');
    return state;
  };
  if (hasMongo) {
    beforeAll(async () => {
      const t = mongoTestDb(label)!;
      const client = new MongoClient(t.uri, { serverSelectionTimeoutMS: 10_000, ...options });
      await client.connect();
      state = { ...t, client, db: client.db(t.dbName) };
    });
    afterAll(async () => {
      if (!state) return;
      const { client, db } = state;
      state = null;
      try {
        await db.dropDatabase();
      } finally {
        await client.close();
      }
    });
  }
  return {
    get uri() {
      return get().uri;
    },
    get dbName() {
      return get().dbName;
    },
    get client() {
      return get().client;
    },
    get db() {
      return get().db;
    },
  };
}
