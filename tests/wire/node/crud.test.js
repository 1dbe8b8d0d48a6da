// MongoDB's own Node.js driver against micromongo-server's wire protocol listener.
// Expected values come from the MongoDB manual's examples and documented semantics.
// MONGODB_URI (set by tests/wire/node_driver_test.sh) names the listener.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient, MongoServerError, Long, Decimal128 } = require('mongodb');
const { withoutClusterTime } = require('./use_database');

let client;
let db;

before(async () => {
  client = new MongoClient(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  db = client.db('nodetest');
});

after(async () => {
  await db.dropDatabase();
  await client.close();
});

test('handshake: ping, buildInfo, hello', async () => {
  assert.deepEqual(withoutClusterTime(await db.command({ ping: 1 })), { ok: 1 });
  const info = await db.admin().command({ buildInfo: 1 });
  assert.equal(info.version, '8.0.0');
  const hello = await db.admin().command({ hello: 1 });
  assert.equal(hello.isWritablePrimary, true);
  assert.equal(hello.maxWireVersion, 25);
  // By default the worker presents a single-node replica set (so drivers use transactions).
  assert.equal(hello.setName, 'rs0');
  assert.ok(hello.operationTime);
  assert.ok(hello.localTime instanceof Date);
});

test('inventory examples from the manual: insert, query operators, projection', async () => {
  // docs.mongodb.com "Query Documents": the inventory collection.
  const inventory = db.collection('inventory');
  await inventory.insertMany([
    { item: 'journal', qty: 25, size: { h: 14, w: 21, uom: 'cm' }, status: 'A' },
    { item: 'notebook', qty: 50, size: { h: 8.5, w: 11, uom: 'in' }, status: 'A' },
    { item: 'paper', qty: 100, size: { h: 8.5, w: 11, uom: 'in' }, status: 'D' },
    { item: 'planner', qty: 75, size: { h: 22.85, w: 30, uom: 'cm' }, status: 'D' },
    { item: 'postcard', qty: 45, size: { h: 10, w: 15.25, uom: 'cm' }, status: 'A' },
  ]);
  const names = async (filter, options = {}) =>
    (await inventory.find(filter, options).sort({ item: 1 }).toArray()).map((d) => d.item);
  assert.deepEqual(await names({ status: 'D' }), ['paper', 'planner']);
  assert.deepEqual(await names({ status: { $in: ['A', 'D'] } }),
    ['journal', 'notebook', 'paper', 'planner', 'postcard']);
  assert.deepEqual(await names({ status: 'A', qty: { $lt: 30 } }), ['journal']);
  assert.deepEqual(await names({ $or: [{ status: 'A' }, { qty: { $lt: 30 } }] }),
    ['journal', 'notebook', 'postcard']);
  assert.deepEqual(await names({ status: 'A', $or: [{ qty: { $lt: 30 } }, { item: /^p/ }] }),
    ['journal', 'postcard']);
  assert.deepEqual(await names({ 'size.uom': 'in' }), ['notebook', 'paper']);
  assert.deepEqual(await names({ size: { h: 14, w: 21, uom: 'cm' } }), ['journal']);
  assert.deepEqual(await names({ size: { w: 21, h: 14, uom: 'cm' } }), []);  // field order matters
  const projected = await inventory.find({ status: 'A' }, { projection: { item: 1, status: 1, _id: 0 } })
    .sort({ item: 1 }).toArray();
  assert.deepEqual(projected[0], { item: 'journal', status: 'A' });
  assert.equal(await inventory.countDocuments({ status: 'A' }), 3);
  assert.equal(await inventory.estimatedDocumentCount(), 5);
});

test('null, missing and nested arrays', async () => {
  const c = db.collection('nulls');
  await c.insertMany([{ _id: 1, item: null }, { _id: 2 }, { _id: 3, item: [[1], 2] }]);
  const ids = async (filter) => (await c.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
  // Manual, "Query for Null or Missing Fields".
  assert.deepEqual(await ids({ item: null }), [1, 2]);
  assert.deepEqual(await ids({ item: { $type: 10 } }), [1]);
  assert.deepEqual(await ids({ item: { $exists: false } }), [2]);
  assert.deepEqual(await ids({ item: 2 }), [3]);
  assert.deepEqual(await ids({ item: 1 }), []);  // one level of array is traversed, not two
  assert.deepEqual(await ids({ item: [1] }), [3]);
});

test('updates: operators, upsert, replace, arrayFilters, pipeline', async () => {
  const c = db.collection('updates');
  await c.insertMany([
    { _id: 1, grades: [95, 92, 90], n: 1 },
    { _id: 2, grades: [98, 100, 102], n: Decimal128.fromString('1.5') },
  ]);
  let r = await c.updateOne({ _id: 1 }, { $inc: { n: 2 }, $set: { tag: 'x' } });
  assert.equal(r.matchedCount, 1);
  assert.equal(r.modifiedCount, 1);
  // Manual, arrayFilters: cap grades >= 100 at 100.
  await c.updateMany({}, { $set: { 'grades.$[e]': 100 } }, { arrayFilters: [{ e: { $gte: 100 } }] });
  assert.deepEqual((await c.findOne({ _id: 2 })).grades, [98, 100, 100]);
  await c.updateOne({ _id: 2 }, { $inc: { n: 1 } });
  assert.equal((await c.findOne({ _id: 2 })).n.toString(), '2.5');
  r = await c.updateOne({ _id: 3 }, { $set: { x: 1 } }, { upsert: true });
  assert.equal(r.upsertedCount, 1);
  assert.equal(r.upsertedId, 3);
  r = await c.replaceOne({ _id: 3 }, { y: 2 });
  assert.deepEqual(await c.findOne({ _id: 3 }), { _id: 3, y: 2 });
  await c.updateOne({ _id: 1 }, [{ $set: { total: { $sum: '$grades' } } }]);
  assert.equal((await c.findOne({ _id: 1 })).total, 277);
  const doc = await c.findOneAndUpdate({ _id: 1 }, { $push: { grades: 70 } }, { returnDocument: 'after' });
  assert.deepEqual(doc.grades, [95, 92, 90, 70]);
  const removed = await c.findOneAndDelete({ _id: 3 });
  assert.deepEqual(removed, { _id: 3, y: 2 });
  assert.equal((await c.deleteMany({})).deletedCount, 2);
});

test('cursors: batches through getMore, early close kills the cursor', async () => {
  const c = db.collection('cursors');
  await c.insertMany(Array.from({ length: 1000 }, (_, i) => ({ i })));
  let n = 0;
  let last = -1;
  for await (const d of c.find({}).sort({ i: 1 }).batchSize(64)) {
    assert.equal(d.i, last + 1);
    last = d.i;
    n++;
  }
  assert.equal(n, 1000);
  const cursor = c.find({}).batchSize(10);
  await cursor.next();
  await cursor.close();  // killCursors
  const status = await db.admin().command({ serverStatus: 1 });
  assert.equal(status.metrics.cursor.open.total, 0);
  const limited = await c.find({}).sort({ i: -1 }).skip(5).limit(3).toArray();
  assert.deepEqual(limited.map((d) => d.i), [994, 993, 992]);
});

test('bulk writes and their errors', async () => {
  const c = db.collection('bulk');
  const r = await c.bulkWrite([
    { insertOne: { document: { _id: 1, v: 1 } } },
    { insertOne: { document: { _id: 2, v: 2 } } },
    { updateOne: { filter: { _id: 1 }, update: { $set: { v: 10 } } } },
    { deleteOne: { filter: { _id: 2 } } },
    { replaceOne: { filter: { _id: 4 }, replacement: { v: 4 }, upsert: true } },
  ]);
  assert.equal(r.insertedCount, 2);
  assert.equal(r.modifiedCount, 1);
  assert.equal(r.deletedCount, 1);
  assert.equal(r.upsertedCount, 1);
  await assert.rejects(c.insertMany([{ _id: 7 }, { _id: 1 }, { _id: 8 }]), (e) => {
    assert.equal(e.code, 11000);
    assert.equal(e.result.insertedCount, 1);  // ordered: stops at _id 1
    assert.equal(e.writeErrors[0].index, 1);
    assert.equal(e.writeErrors[0].code, 11000);
    assert.equal(e.writeErrors[0].errmsg,
      `E11000 duplicate key error collection: ${db.databaseName}.${c.collectionName} index: _id_ dup key: { _id: 1 }`);
    return true;
  });
  await assert.rejects(c.insertMany([{ _id: 1 }, { _id: 9 }], { ordered: false }), (e) => {
    assert.equal(e.result.insertedCount, 1);
    return true;
  });
  assert.equal(await c.countDocuments(), 4);  // _id 1, 4, 7 and 9
});

test('indexes: create, list, unique violations, drop', async () => {
  const c = db.collection('indexed');
  assert.equal(await c.createIndex({ email: 1 }, { unique: true }), 'email_1');
  assert.equal(await c.createIndex({ a: 1, b: -1 }), 'a_1_b_-1');
  const names = (await c.indexes()).map((i) => i.name).sort();
  assert.deepEqual(names, ['_id_', 'a_1_b_-1', 'email_1']);
  await c.insertOne({ email: 'x@example.com' });
  await assert.rejects(c.insertOne({ email: 'x@example.com' }), (e) => {
    assert.ok(e instanceof MongoServerError);
    assert.equal(e.code, 11000);
    assert.deepEqual(e.keyPattern, { email: 1 });
    assert.deepEqual(e.keyValue, { email: 'x@example.com' });
    // MongoDB's message, with the key as its messages write documents.
    assert.equal(e.message, 'E11000 duplicate key error collection: nodetest.indexed index: email_1 ' +
      'dup key: { email: "x@example.com" }');
    return true;
  });
  await c.dropIndex('a_1_b_-1');
  assert.equal((await c.indexes()).length, 2);
  await assert.rejects(c.dropIndex('nope'), (e) => e.code === 27);
});

test('aggregation: $match, $group, $sort, $lookup, $facet', async () => {
  // Manual, $group example: sales.
  const sales = db.collection('sales');
  await sales.insertMany([
    { item: 'abc', price: Decimal128.fromString('10'), quantity: 2 },
    { item: 'jkl', price: Decimal128.fromString('20'), quantity: 1 },
    { item: 'xyz', price: Decimal128.fromString('5'), quantity: 10 },
    { item: 'xyz', price: Decimal128.fromString('5'), quantity: 20 },
    { item: 'abc', price: Decimal128.fromString('10'), quantity: 10 },
  ]);
  const totals = await sales.aggregate([
    { $group: { _id: '$item', total: { $sum: { $multiply: ['$price', '$quantity'] } } } },
    { $sort: { _id: 1 } },
  ]).toArray();
  assert.deepEqual(totals.map((t) => [t._id, t.total.toString()]),
    [['abc', '120'], ['jkl', '20'], ['xyz', '150']]);
  const items = db.collection('items');
  await items.insertMany([{ _id: 'abc', name: 'A' }, { _id: 'xyz', name: 'X' }]);
  const joined = await sales.aggregate([
    { $match: { quantity: { $gte: 10 } } },
    { $lookup: { from: 'items', localField: 'item', foreignField: '_id', as: 'info' } },
    { $project: { _id: 0, item: 1, name: { $first: '$info.name' } } },
    { $sort: { item: 1, name: 1 } },
  ]).toArray();
  assert.deepEqual(joined, [{ item: 'abc', name: 'A' }, { item: 'xyz', name: 'X' }, { item: 'xyz', name: 'X' }]);
  const [facets] = await sales.aggregate([
    { $facet: { n: [{ $count: 'n' }], max: [{ $group: { _id: null, q: { $max: '$quantity' } } }] } },
  ]).toArray();
  assert.equal(facets.n[0].n, 5);
  assert.equal(facets.max[0].q, 20);
  const explained = await sales.aggregate([{ $match: { item: 'abc' } }]).explain();
  assert.ok(explained);
});

test('collation: case-insensitive match and sort', async () => {
  const c = db.collection('collation');
  await c.insertMany([{ name: 'b' }, { name: 'B' }, { name: 'a' }, { name: 'C' }]);
  const collation = { locale: 'en', strength: 2 };
  assert.equal(await c.countDocuments({ name: 'b' }, { collation }), 2);
  const sorted = await c.find({}, { collation }).sort({ name: 1 }).toArray();
  assert.deepEqual(sorted.map((d) => d.name.toLowerCase()), ['a', 'b', 'b', 'c']);
  assert.deepEqual((await c.distinct('name', {}, { collation })).map((s) => s.toLowerCase()).sort(),
    ['a', 'b', 'c']);
});

test('collections: create with validator, list, rename, drop', async () => {
  const coll = await db.createCollection('validated', {
    validator: { $jsonSchema: { bsonType: 'object', required: ['name'] } },
  });
  await assert.rejects(coll.insertOne({ other: 1 }), (e) => e.code === 121);
  await coll.insertOne({ name: 'ok' });
  const listed = await db.listCollections({ name: 'validated' }).toArray();
  assert.equal(listed.length, 1);
  assert.equal(listed[0].type, 'collection');
  assert.ok(listed[0].options.validator);
  await assert.rejects(db.createCollection('validated'), (e) => e.code === 48);
  await db.renameCollection('validated', 'renamed');
  assert.deepEqual((await db.listCollections({}, { nameOnly: true }).toArray())
    .map((c) => c.name).filter((n) => n === 'renamed' || n === 'validated'), ['renamed']);
  assert.equal(await db.collection('renamed').drop(), true);
});

test('errors carry MongoDB codes and names', async () => {
  const c = db.collection('errors');
  await assert.rejects(c.find({ $bogus: 1 }).toArray(), (e) => e.code === 2 && e.codeName === 'BadValue');
  await assert.rejects(c.updateOne({}, { $set: { a: 1 }, $unset: { a: 1 } }, { upsert: true }),
    (e) => e.code === 40);  // a write error: MongoDB's writeErrors carry no codeName
  await assert.rejects(db.command({ noSuchCommand: 1 }), (e) => e.code === 59 && e.codeName === 'CommandNotFound');
  await assert.rejects(c.aggregate([{ $bogus: {} }]).toArray(), (e) => e.code === 40324);
  await assert.rejects(db.command({ getMore: Long.fromNumber(123456), collection: 'errors' }),
    (e) => e.code === 43 && e.codeName === 'CursorNotFound');
  // Past 16 MiB the driver refuses the document itself; the connection stays usable.
  await assert.rejects(c.insertOne({ big: 'x'.repeat(17 * 1024 * 1024) }));
  assert.deepEqual(withoutClusterTime(await db.command({ ping: 1 })), { ok: 1 });
});
