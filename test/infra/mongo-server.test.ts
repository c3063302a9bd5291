// Smoke test of the MongoDB-wire server the test setup provides (MongoDB, or FerretDB 1.24
// SQLite in CI): the storage primitives docs/storage.md relies on must behave the same on both.
import { expect, it } from 'vitest';
import { MongoBulkWriteError, MongoClient, MongoServerError, type CommandStartedEvent } from 'mongodb';
import { describeMongo, hasMongo, mongoTestDb, useMongoTestDb } from '../setup/mongo.ts';

interface Doc {
  _id: string;
  n?: number;
  email?: string;
  tag?: string;
}

function errorCode(err: unknown): unknown {
  return err instanceof MongoServerError ? err.code : undefined;
}

it('setup contract: a URI is provided, or the MongoDB suites are skipped', () => {
  if (process.env.TIERBOT_REQUIRE_MONGO === '1') expect(hasMongo).toBe(true);
  const t = mongoTestDb('contract');
  if (!hasMongo) return expect(t).toBeNull();
  const u = mongoTestDb('contract');
  expect(t!.dbName).toMatch(/^[A-Za-z0-9_-]{1,63}$/);
  expect(t!.dbName).not.toBe(u!.dbName);
  expect(mongoTestDb()!.dbName).toMatch(/^t_mongo-server_/);
});

describeMongo('MongoDB-wire test server', () => {
  const mongo = useMongoTestDb();

  it('answers ping and reports a supported version', async () => {
    expect((await mongo.db.admin().command({ ping: 1 })).ok).toBe(1);
    const info = await mongo.db.admin().command({ buildInfo: 1 });
    expect(typeof info.version).toBe('string');
  });

  it('inserts and finds', async () => {
    const c = mongo.db.collection<Doc>('basic');
    await c.insertOne({ _id: 'a', n: 1 });
    await c.insertMany([
      { _id: 'b', n: 2 },
      { _id: 'c', n: 3 },
    ]);
    expect(await c.findOne({ _id: 'b' })).toEqual({ _id: 'b', n: 2 });
    const big = await c.find({ n: { $gte: 2 } }).sort({ n: -1 }).toArray();
    expect(big.map((d) => d._id)).toEqual(['c', 'b']);
    expect(await c.countDocuments({})).toBe(3);
  });

  it('claim primitive: a second insert of the same _id fails with 11000, first writer wins', async () => {
    const claims = mongo.db.collection<Doc & { owner: string }>('claims');
    await claims.insertOne({ _id: 'job:daily:2024-01-01', owner: 'instance-1' });
    const err = await claims.insertOne({ _id: 'job:daily:2024-01-01', owner: 'instance-2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect(await claims.findOne({ _id: 'job:daily:2024-01-01' })).toMatchObject({ owner: 'instance-1' });

    // Concurrent claimers: exactly one wins.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => claims.insertOne({ _id: 'outbox:42', owner: `w${i}` })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(errorCode(r.reason)).toBe(11000);
    }
    expect(await claims.countDocuments({ _id: 'outbox:42' })).toBe(1);
  });

  it('a unique index rejects a duplicate with 11000', async () => {
    const users = mongo.db.collection<Doc>('users');
    await users.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
    await users.insertOne({ _id: 'u1', email: 'a@example.com' });
    const err = await users.insertOne({ _id: 'u2', email: 'a@example.com' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    await users.insertOne({ _id: 'u3', email: 'b@example.com' });
    expect(await users.countDocuments({})).toBe(2);
    const names = (await users.indexes()).map((i) => i.name);
    expect(names).toContain('email_unique');
  });

  it('a compound unique index rejects a duplicate pair only', async () => {
    const c = mongo.db.collection<Doc>('pairs');
    await c.createIndex({ tag: 1, n: 1 }, { unique: true });
    await c.insertMany([
      { _id: 'p1', tag: 'x', n: 1 },
      { _id: 'p2', tag: 'x', n: 2 },
      { _id: 'p3', tag: 'y', n: 1 },
    ]);
    const err = await c.insertOne({ _id: 'p4', tag: 'x', n: 1 }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(11000);
  });

  it('unordered bulkWrite applies every valid op and reports the duplicate', async () => {
    const c = mongo.db.collection<Doc>('bulk');
    await c.insertMany([
      { _id: 'k1', n: 1 },
      { _id: 'k2', n: 2 },
      { _id: 'k3', n: 3 },
    ]);
    // Only changed docs, unordered: the recompute's write pattern (docs/architecture.md, "Recompute").
    const ok = await c.bulkWrite(
      [
        { updateOne: { filter: { _id: 'k1' }, update: { $set: { tag: 'gold' } } } },
        { updateOne: { filter: { _id: 'k2' }, update: { $inc: { n: 10 } } } },
        { updateOne: { filter: { _id: 'k9' }, update: { $set: { n: 9 } }, upsert: true } },
        { replaceOne: { filter: { _id: 'k3' }, replacement: { n: 30 } } },
        { deleteOne: { filter: { _id: 'nope' } } },
      ],
      { ordered: false },
    );
    expect(ok.matchedCount).toBe(3);
    expect(ok.modifiedCount).toBe(3);
    expect(ok.upsertedCount).toBe(1);
    expect(ok.deletedCount).toBe(0);

    const err = await c
      .bulkWrite(
        [
          { insertOne: { document: { _id: 'k4', n: 4 } } },
          { insertOne: { document: { _id: 'k1', n: 99 } } }, // duplicate
          { insertOne: { document: { _id: 'k5', n: 5 } } },
        ],
        { ordered: false },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    const bulkErr = err as MongoBulkWriteError;
    expect(bulkErr.writeErrors).toBeDefined();
    const writeErrors = Array.isArray(bulkErr.writeErrors) ? bulkErr.writeErrors : [bulkErr.writeErrors];
    expect(writeErrors.map((e) => e.code)).toEqual([11000]);
    expect(writeErrors[0]!.index).toBe(1);
    expect(bulkErr.result.insertedCount).toBe(2);

    const all = await c.find({}).sort({ _id: 1 }).toArray();
    expect(all).toEqual([
      { _id: 'k1', n: 1, tag: 'gold' },
      { _id: 'k2', n: 12 },
      { _id: 'k3', n: 30 },
      { _id: 'k4', n: 4 },
      { _id: 'k5', n: 5 },
      { _id: 'k9', n: 9 },
    ]);
  });

  it('streams 250+ docs through a cursor with batchSize (getMore)', async () => {
    const t = mongoTestDb('cursor')!;
    const client = new MongoClient(t.uri, { monitorCommands: true });
    const started: CommandStartedEvent[] = [];
    client.on('commandStarted', (e) => started.push(e));
    try {
      const c = client.db(t.dbName).collection<Doc>('many');
      const N = 260;
      await c.insertMany(
        Array.from({ length: N }, (_, i) => ({ _id: `c${String(i).padStart(4, '0')}`, n: i })),
        { ordered: false },
      );
      let count = 0;
      let prev = '';
      for await (const d of c.find({}, { batchSize: 50 }).sort({ _id: 1 })) {
        expect(d._id > prev).toBe(true);
        prev = d._id;
        count++;
      }
      expect(count).toBe(N);
      expect(started.filter((e) => e.commandName === 'getMore').length).toBeGreaterThanOrEqual(5);
      const finds = started.filter((e) => e.commandName === 'find');
      expect(finds.at(-1)?.command.batchSize).toBe(50);
    } finally {
      await client.db(t.dbName).dropDatabase().catch(() => {});
      await client.close();
    }
  });
});
