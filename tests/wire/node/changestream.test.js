// Change streams over the wire protocol: the driver's watch() is an aggregate starting
// with $changeStream whose getMores wait for events. Event shapes as MongoDB's manual
// documents them (insert, update, replace, delete, drop, invalidate), resuming, and
// database- and cluster-wide streams.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient } = require('mongodb');

let client;
let db;

// The driver opens a stream lazily; tryNext() runs its aggregate (an empty first batch), so
// that the writes after it are the stream's.
async function opened(stream) {
  assert.equal(await stream.tryNext(), null);
  return stream;
}

before(async () => {
  client = new MongoClient(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  db = client.db('nodechanges');
  await db.dropDatabase();
});
after(async () => client.close());

test('collection stream: insert, update, replace and delete events', async () => {
  const c = db.collection('items');
  await c.insertOne({ _id: 0 });  // the collection exists before the stream opens
  const stream = await opened(c.watch([], { maxAwaitTimeMS: 100 }));
  await c.insertOne({ _id: 1, qty: 5 });
  const insert = await stream.next();
  assert.equal(insert.operationType, 'insert');
  assert.deepEqual(insert.ns, { db: 'nodechanges', coll: 'items' });
  assert.deepEqual(insert.documentKey, { _id: 1 });
  assert.deepEqual(insert.fullDocument, { _id: 1, qty: 5 });
  assert.ok(insert._id._data, 'a resume token');
  assert.equal(insert.clusterTime._bsontype, 'Timestamp');

  await c.updateOne({ _id: 1 }, { $set: { qty: 6 }, $unset: { none: '' } });
  const update = await stream.next();
  assert.equal(update.operationType, 'update');
  assert.deepEqual(update.updateDescription.updatedFields, { qty: 6 });
  assert.deepEqual(update.updateDescription.removedFields, []);
  assert.equal(update.fullDocument, undefined);

  await c.replaceOne({ _id: 1 }, { qty: 7 });
  const replace = await stream.next();
  assert.equal(replace.operationType, 'replace');
  assert.deepEqual(replace.fullDocument, { _id: 1, qty: 7 });

  await c.deleteOne({ _id: 1 });
  const del = await stream.next();
  assert.equal(del.operationType, 'delete');
  assert.deepEqual(del.documentKey, { _id: 1 });
  await stream.close();
});

test('fullDocument updateLookup, $match in the pipeline, and resumeAfter', async () => {
  const c = db.collection('lookup');
  await c.insertOne({ _id: 0 });
  const stream = await opened(c.watch([{ $match: { operationType: 'update' } }],
    { fullDocument: 'updateLookup', maxAwaitTimeMS: 100 }));
  await c.insertOne({ _id: 1, n: 1 });  // filtered out
  await c.updateOne({ _id: 1 }, { $inc: { n: 1 } });
  const first = await stream.next();
  assert.equal(first.operationType, 'update');
  assert.deepEqual(first.fullDocument, { _id: 1, n: 2 });  // the document as it is now
  await stream.close();
  await c.updateOne({ _id: 1 }, { $inc: { n: 1 } });
  // Resuming after the first update delivers the second one.
  const resumed = c.watch([{ $match: { operationType: 'update' } }], { resumeAfter: first._id });
  const second = await resumed.next();
  assert.equal(second.operationType, 'update');
  assert.notDeepEqual(second._id, first._id);
  assert.deepEqual(second.updateDescription.updatedFields, { n: 3 });
  await resumed.close();
});

test('dropping the collection ends its stream with drop and invalidate', async () => {
  const c = db.collection('dropped');
  await c.insertOne({ _id: 1 });
  const stream = await opened(c.watch([], { maxAwaitTimeMS: 100 }));
  await c.drop();
  assert.equal((await stream.next()).operationType, 'drop');
  assert.equal((await stream.next()).operationType, 'invalidate');
  await assert.rejects(stream.next());  // the cursor is closed
  await stream.close();
});

test('database and cluster streams see every collection', async () => {
  const dbStream = await opened(db.watch([], { maxAwaitTimeMS: 100 }));
  const clusterStream = await opened(client.watch([], { maxAwaitTimeMS: 100 }));
  await db.collection('a').insertOne({ _id: 'a' });
  const e1 = await dbStream.next();
  const e2 = await clusterStream.next();
  assert.deepEqual(e1.ns, { db: 'nodechanges', coll: 'a' });
  assert.deepEqual(e2.ns, { db: 'nodechanges', coll: 'a' });
  await dbStream.close();
  await clusterStream.close();
  // The admin database needs allChangesForCluster (which client.watch() sets).
  await assert.rejects(client.db('admin').watch().next(), (e) => e.code === 72);
});
