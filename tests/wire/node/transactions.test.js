// Sessions, multi-document transactions, snapshot reads and retryable writes through MongoDB's Node.js
// driver, against a worker running as a single-node replica set (--replSet). Expected
// behaviour from the manual's "Transactions" pages (the withTransaction example with
// orders and inventory, read isolation, write conflicts, "Transactions and Operations")
// and the server's error codes (WriteConflict 112 with TransientTransactionError,
// NoSuchTransaction 251, OperationNotSupportedInTransaction 263, TransactionTooOld 225).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { MongoServerError, Long } = require('mongodb');
const { useDatabase } = require('./use_database');

const ctx = useDatabase('nodetxn');

function serverError(code, label) {
  return (e) => {
    assert.ok(e instanceof MongoServerError, `${e.name}: ${e.message}`);
    assert.equal(e.code, code, e.message);
    if (label) assert.ok(e.hasErrorLabel(label), `labels ${JSON.stringify(e.errorLabels)}`);
    return true;
  };
}

test('hello describes a single-node replica set and replies carry the cluster time', async () => {
  const hello = await ctx.db.admin().command({ hello: 1 });
  assert.equal(hello.setName, 'rs0');
  assert.equal(hello.isWritablePrimary, true);
  assert.equal(hello.secondary, false);
  assert.equal(hello.hosts.length, 1);
  assert.equal(hello.me, hello.hosts[0]);
  assert.equal(hello.primary, hello.hosts[0]);
  assert.ok(hello.$clusterTime.clusterTime);
  assert.ok(hello.operationTime);
});

test("the manual's withTransaction example: orders and inventory change together", async () => {
  const { client, db } = ctx;
  const orders = db.collection('orders');
  const inventory = db.collection('inventory');
  await inventory.insertOne({ sku: 'abc123', qty: 1000 });
  const session = client.startSession();
  try {
    await session.withTransaction(async () => {
      await orders.insertOne({ sku: 'abc123', qty: 100 }, { session });
      await inventory.updateOne({ sku: 'abc123', qty: { $gte: 100 } }, { $inc: { qty: -100 } }, { session });
    });
  } finally {
    await session.endSession();
  }
  assert.equal((await inventory.findOne({ sku: 'abc123' })).qty, 900);
  assert.equal(await orders.countDocuments({ sku: 'abc123' }), 1);
});

test('a transaction reads its own writes; others see them only at commit', async () => {
  const { client, db } = ctx;
  const c = db.collection('isolation');
  await c.createIndex({ email: 1 }, { unique: true });
  await c.insertMany([{ _id: 1, email: 'a@x', n: 1 }, { _id: 2, email: 'b@x', n: 2 }]);
  const session = client.startSession();
  session.startTransaction();
  await c.insertOne({ _id: 3, email: 'c@x', n: 3 }, { session });
  await c.updateOne({ _id: 1 }, { $set: { n: 10 } }, { session });
  await c.deleteOne({ _id: 2 }, { session });
  // Inside: every read path sees the writes (a scan, the unique index, aggregate, distinct).
  const reads = [
    ['find', async () => (await c.find({}, { session }).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.n])],
    ['index', async () => (await c.find({ email: 'c@x' }, { session }).toArray()).map((d) => d._id)],
    ['countDocuments', () => c.countDocuments({}, { session })],
    ['distinct', async () => (await c.distinct('n', {}, { session })).sort((x, y) => x - y)],
    ['aggregate', async () => (await c.aggregate([{ $group: { _id: null, s: { $sum: '$n' } } }], { session }).toArray())[0].s],
  ];
  const inside = { find: [[1, 10], [3, 3]], index: [3], countDocuments: 2, distinct: [3, 10], aggregate: 13 };
  const outside = { find: [[1, 1], [2, 2]], index: [], countDocuments: 2, distinct: [1, 2], aggregate: 3 };
  for (const [name, read] of reads) assert.deepEqual(await read(), inside[name], `inside: ${name}`);
  // Outside, with no session of its own: the state before the transaction.
  const plain = [
    ['find', async () => (await c.find({}).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.n])],
    ['index', async () => (await c.find({ email: 'c@x' }).toArray()).map((d) => d._id)],
    ['countDocuments', () => c.countDocuments({})],
    ['distinct', async () => (await c.distinct('n', {})).sort((x, y) => x - y)],
    ['aggregate', async () => (await c.aggregate([{ $group: { _id: null, s: { $sum: '$n' } } }]).toArray())[0].s],
  ];
  for (const [name, read] of plain) assert.deepEqual(await read(), outside[name], `outside: ${name}`);
  // The unique index holds inside the transaction too.
  await assert.rejects(c.insertOne({ _id: 4, email: 'c@x' }, { session }), serverError(11000));
  // ...and that error aborted the transaction: nothing of it is kept.
  await assert.rejects(session.commitTransaction(), serverError(251));
  await session.endSession();
  for (const [name, read] of plain) assert.deepEqual(await read(), outside[name], `after abort: ${name}`);
});

test('commit makes every write visible at once; abort discards them', async () => {
  const { client, db } = ctx;
  const c = db.collection('commit');
  await c.insertMany([{ _id: 1, n: 1 }, { _id: 2, n: 2 }]);
  const session = client.startSession();
  session.startTransaction();
  await c.insertMany([{ _id: 3 }, { _id: 4 }], { session });
  await c.deleteMany({ _id: { $lte: 2 } }, { session });
  await session.abortTransaction();
  assert.deepEqual((await c.find().toArray()).map((d) => d._id), [1, 2]);
  session.startTransaction();
  await c.insertMany([{ _id: 3 }, { _id: 4 }], { session });
  await c.updateMany({}, { $set: { tagged: true } }, { session });
  const found = await c.findOneAndDelete({ _id: 1 }, { session });
  assert.equal(found._id, 1);
  await session.commitTransaction();
  await session.endSession();
  assert.deepEqual(await c.find().toArray(),
    [{ _id: 2, n: 2, tagged: true }, { _id: 3, tagged: true }, { _id: 4, tagged: true }]);
});

test('a transaction reads a snapshot: commits after its first read stay unseen', async () => {
  const { client, db } = ctx;
  const c = db.collection('snapshot');
  await c.insertOne({ _id: 1 });
  const session = client.startSession();
  session.startTransaction();
  assert.equal(await c.countDocuments({}, { session }), 1);
  await c.insertOne({ _id: 2 });
  assert.equal(await c.countDocuments({}, { session }), 1);
  assert.deepEqual(await c.find({ _id: 2 }, { session }).toArray(), []);
  await session.commitTransaction();
  await session.endSession();
  assert.equal(await c.countDocuments(), 2);
});

test('first writer wins: a second transaction writing the same document gets WriteConflict', async () => {
  const { client, db } = ctx;
  const c = db.collection('conflict');
  await c.insertOne({ _id: 1, n: 0 });
  const a = client.startSession();
  const b = client.startSession();
  a.startTransaction();
  b.startTransaction();
  await c.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session: a });
  await assert.rejects(c.updateOne({ _id: 1 }, { $inc: { n: 10 } }, { session: b }),
    serverError(112, 'TransientTransactionError'));
  // The conflict aborted b; a commits.
  await assert.rejects(b.commitTransaction(), serverError(251, 'TransientTransactionError'));
  await a.commitTransaction();
  // A transaction whose snapshot predates a commit it would overwrite conflicts too.
  b.startTransaction();
  assert.equal((await c.findOne({ _id: 1 }, { session: b })).n, 1);
  await c.updateOne({ _id: 1 }, { $inc: { n: 100 } });
  await assert.rejects(c.updateOne({ _id: 1 }, { $inc: { n: 10 } }, { session: b }), serverError(112));
  await b.abortTransaction().catch(() => {});
  // withTransaction runs the callback again after such a conflict.
  let attempts = 0;
  await b.withTransaction(async () => {
    attempts++;
    const doc = await c.findOne({ _id: 1 }, { session: b });
    if (attempts === 1) await c.updateOne({ _id: 1 }, { $inc: { n: 1000 } });  // a concurrent writer
    await c.updateOne({ _id: 1 }, { $set: { n: doc.n + 1 } }, { session: b });
  });
  assert.equal(attempts, 2);
  assert.equal((await c.findOne({ _id: 1 })).n, 1102);
  await a.endSession();
  await b.endSession();
});

test('a write outside transactions waits for the transaction holding its document', async () => {
  const { client, db } = ctx;
  const c = db.collection('waits');
  await c.insertOne({ _id: 1, n: 0 });
  const session = client.startSession();
  session.startTransaction();
  await c.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session });
  let done = false;
  const outside = c.updateOne({ _id: 1 }, { $inc: { n: 10 } }).then((r) => { done = true; return r; });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(done, false);
  await session.commitTransaction();
  assert.equal((await outside).modifiedCount, 1);
  assert.equal((await c.findOne({ _id: 1 })).n, 11);
  await session.endSession();
});

test('collections made in a transaction appear at its commit', async () => {
  const { client, db } = ctx;
  const names = async () => (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
  const session = client.startSession();
  // Implicitly, by an insert; explicitly by create, with an index built in the transaction.
  session.startTransaction();
  await db.collection('implicit').insertOne({ _id: 1 }, { session });
  await db.createCollection('explicit', { session });
  await db.collection('explicit').createIndex({ k: 1 }, { unique: true, session });
  await db.collection('explicit').insertOne({ _id: 1, k: 'a' }, { session });
  await assert.rejects(db.collection('explicit').insertOne({ _id: 2, k: 'a' }, { session }), serverError(11000));
  await session.abortTransaction().catch(() => {});
  assert.ok(!(await names()).includes('implicit'));
  assert.ok(!(await names()).includes('explicit'));
  session.startTransaction();
  await db.collection('implicit').insertOne({ _id: 1 }, { session });
  await db.createCollection('explicit', { session });
  await db.collection('explicit').createIndex({ k: 1 }, { unique: true, session });
  await db.collection('explicit').insertOne({ _id: 1, k: 'a' }, { session });
  assert.equal(await db.collection('implicit').countDocuments({}, { session }), 1);
  assert.ok(!(await names()).includes('implicit'));
  await session.commitTransaction();
  await session.endSession();
  assert.ok((await names()).includes('implicit'));
  assert.deepEqual(await db.collection('explicit').find().toArray(), [{ _id: 1, k: 'a' }]);
  const indexes = await db.collection('explicit').indexes();
  assert.deepEqual(indexes.map((i) => [i.name, i.unique ?? false]), [['_id_', false], ['k_1', true]]);
  await assert.rejects(db.collection('explicit').insertOne({ _id: 2, k: 'a' }), serverError(11000));
});

test('cursors of a transaction page through its writes', async () => {
  const { client, db } = ctx;
  const c = db.collection('cursor');
  const session = client.startSession();
  session.startTransaction();
  await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })), { session });
  const ids = (await c.find({}, { session, batchSize: 3 }).toArray()).map((d) => d._id);
  assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  await session.commitTransaction();
  await session.endSession();
});

test("what transactions refuse, with MongoDB's codes", async () => {
  const { client, db } = ctx;
  const c = db.collection('refused');
  await c.insertOne({ _id: 1 });
  await db.createCollection('cap', { capped: true, size: 4096 });
  const session = client.startSession();
  const cases = [
    ['count', () => db.command({ count: 'refused' }, { session }), 263],
    ['drop', () => db.command({ drop: 'refused' }, { session }), 263],
    ['create capped', () => db.command({ create: 'capped_in_txn', capped: true, size: 4096 }, { session }), 263],
    ['index on an existing collection', () => c.createIndex({ x: 1 }, { session }), 263],
    ['$out', () => c.aggregate([{ $out: 'out_in_txn' }], { session }).toArray(), 263],
    ['capped insert', () => db.collection('cap').insertOne({ x: 1 }, { session }), 263],
  ];
  for (const [name, run, code] of cases) {
    session.startTransaction();
    await assert.rejects(run(), serverError(code), name);
    // The failed statement ended the transaction.
    await assert.rejects(c.findOne({}, { session }), serverError(251, 'TransientTransactionError'), name);
    await session.abortTransaction().catch(() => {});
  }
  await session.endSession();
});

// The manual's "Transactions" example (Node.js tab): one transaction inserts into
// mydb1.foo and mydb2.bar, two databases.
test("the manual's example: a transaction writes to two databases", async () => {
  const { client } = ctx;
  const db1 = client.db('nodetxn_mydb1'), db2 = client.db('nodetxn_mydb2');
  try {
    await db1.collection('foo').insertOne({ abc: 0 }, { writeConcern: { w: 'majority' } });
    await db2.collection('bar').insertOne({ xyz: 0 }, { writeConcern: { w: 'majority' } });
    const session = client.startSession();
    const transactionOptions = {
      readPreference: 'primary',
      readConcern: { level: 'local' },
      writeConcern: { w: 'majority' },
    };
    try {
      await session.withTransaction(async () => {
        const coll1 = client.db('nodetxn_mydb1').collection('foo');
        const coll2 = client.db('nodetxn_mydb2').collection('bar');
        await coll1.insertOne({ abc: 1 }, { session });
        await coll2.insertOne({ xyz: 999 }, { session });
        // Nobody else sees either insert before the commit.
        assert.equal(await db1.collection('foo').countDocuments({ abc: 1 }), 0);
        assert.equal(await db2.collection('bar').countDocuments({ xyz: 999 }), 0);
      }, transactionOptions);
    } finally {
      await session.endSession();
    }
    assert.equal(await db1.collection('foo').countDocuments({ abc: 1 }), 1);
    assert.equal(await db2.collection('bar').countDocuments({ xyz: 999 }), 1);

    // Aborted, or failed in one database: neither database keeps anything.
    const s2 = client.startSession();
    s2.startTransaction();
    await db1.collection('foo').insertOne({ abc: 2 }, { session: s2 });
    await db2.collection('bar').insertOne({ xyz: 2 }, { session: s2 });
    await s2.abortTransaction();
    s2.startTransaction();
    await db1.collection('foo').insertOne({ abc: 3 }, { session: s2 });
    await assert.rejects(db2.collection('bar').insertOne({ _id: (await db2.collection('bar').findOne({ xyz: 0 }))._id }, { session: s2 }),
                         serverError(11000));
    await s2.abortTransaction().catch(() => {});
    await s2.endSession();
    assert.equal(await db1.collection('foo').countDocuments({ abc: { $in: [2, 3] } }), 0);
    assert.equal(await db2.collection('bar').countDocuments({ xyz: 2 }), 0);
  } finally {
    await db1.dropDatabase();
    await db2.dropDatabase();
  }
});

test('retryable writes: a retry of the same txnNumber is answered without running again', async () => {
  const { client, db } = ctx;
  const c = db.collection('retry');
  await c.insertOne({ _id: 1, n: 0 });
  const session = client.startSession();
  // The driver pools server sessions: numbers continue from what this one last used.
  await c.findOne({}, { session });
  const base = Number(session.serverSession.txnNumber) + 10;
  const inc = { update: 'retry', updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }], txnNumber: Long.fromNumber(base) };
  assert.equal((await db.command(inc, { session })).nModified, 1);
  assert.equal((await db.command(inc, { session })).nModified, 1);
  assert.equal((await c.findOne({ _id: 1 })).n, 1);
  await assert.rejects(db.command({ ...inc, txnNumber: Long.fromNumber(base - 1) }, { session }), serverError(225));
  assert.equal((await db.command({ ...inc, txnNumber: Long.fromNumber(base + 1) }, { session })).nModified, 1);
  assert.equal((await c.findOne({ _id: 1 })).n, 2);
  session.serverSession.txnNumber = base + 1;
  // The driver's own retryable writes (on by default with a replica set) carry txnNumbers.
  await c.insertMany([{ _id: 2 }, { _id: 3 }], { session });
  assert.equal(await c.countDocuments(), 3);
  await session.endSession();
});

test('snapshot sessions read every collection as of their first read', async () => {
  const { client, db } = ctx;
  const c = db.collection('snap');
  await c.insertMany([{ _id: 1, x: 11 }, { _id: 2, x: 11 }]);
  const session = client.startSession({ snapshot: true });
  assert.deepEqual(await c.find({}, { session }).toArray(), [{ _id: 1, x: 11 }, { _id: 2, x: 11 }]);
  assert.ok(session.snapshotTime, 'the reply named the time read at');
  await c.updateOne({ _id: 1 }, { $inc: { x: 1 } });
  await c.insertOne({ _id: 3, x: 33 });
  // Every later read of the session is at that time: find, aggregate, distinct, count.
  assert.deepEqual(await c.find({}, { session }).toArray(), [{ _id: 1, x: 11 }, { _id: 2, x: 11 }]);
  assert.deepEqual(await c.distinct('x', {}, { session }), [11]);
  assert.equal(await c.countDocuments({}, { session }), 2);
  assert.deepEqual(await c.aggregate([{ $group: { _id: null, s: { $sum: '$x' } } }], { session }).toArray(),
    [{ _id: null, s: 22 }]);
  // Writes are not reads at a snapshot: refused in a snapshot session.
  await assert.rejects(c.insertOne({ _id: 4 }, { session }), serverError(72));
  await session.endSession();
  assert.equal(await c.countDocuments(), 3);
});

test("a transaction's change events come at its commit, naming its session and number", async () => {
  const { client, db } = ctx;
  const c = db.collection('events');
  await c.insertOne({ _id: 0 });
  const stream = c.watch();
  await stream.cursor.cursorInit();
  const session = client.startSession();
  session.startTransaction();
  await c.insertOne({ _id: 1 }, { session });
  await c.updateOne({ _id: 0 }, { $set: { seen: true } }, { session });
  assert.equal(await stream.tryNext(), null, 'nothing before the commit');
  await session.commitTransaction();
  const events = [await stream.next(), await stream.next()];
  assert.deepEqual(events.map((e) => [e.operationType, e.documentKey._id]), [['insert', 1], ['update', 0]]);
  for (const e of events) {
    assert.equal(Buffer.from(e.lsid.id.buffer).toString('hex'), Buffer.from(session.id.id.buffer).toString('hex'));
    assert.equal(e.lsid.uid.buffer.length, 32);
    assert.equal(Number(e.txnNumber), Number(session.transaction.transactionNumber ?? session.serverSession.txnNumber));
  }
  assert.ok(events[0].clusterTime.lessThan(events[1].clusterTime));
  await stream.close();
  await session.endSession();
});
