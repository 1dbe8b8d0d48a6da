// Capped collections and tailable cursors through MongoDB's Node.js driver: create's
// capped/size/max, insertion order and {$natural: -1}, removal of the oldest documents,
// collMod's cappedSize/cappedMax, and find({tailable, awaitData}) following inserts.
// Expected values from the manual's "Capped Collections" pages.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { MongoServerError } = require('mongodb');
const { useDatabase, withoutClusterTime } = require('./use_database');

const ctx = useDatabase('nodecapped');

test('query a capped collection: insertion order, most recent first with $natural: -1', async () => {
  const { db } = ctx;
  const log = await db.createCollection('log', { capped: true, size: 100000 });
  assert.equal(await log.isCapped(), true);
  assert.deepEqual(await log.options(), { capped: true, size: 100000 });
  await log.insertMany([
    { _id: 5, message: 'system start', type: 'startup', time: 1711403508 },
    { _id: 4, message: 'user login attempt', type: 'info', time: 1711403907 },
    { _id: 3, message: 'user login fail', type: 'warning', time: 1711404209 },
    { _id: 2, message: 'user login success', type: 'info', time: 1711404367 },
    { _id: 1, message: 'user logout', type: 'info', time: 1711404555 },
  ]);
  assert.deepEqual((await log.find({ type: 'info' }).toArray()).map((d) => d.message),
    ['user login attempt', 'user login success', 'user logout']);
  assert.deepEqual((await log.find().sort({ $natural: -1 }).limit(3).toArray()).map((d) => d.message),
    ['user logout', 'user login success', 'user login fail']);
  const stats = await db.command({ collStats: 'log' });
  assert.equal(stats.capped, true);
  assert.equal(Number(stats.maxSize), 100000);
  await db.collection('plain').insertOne({ _id: 1 });
  assert.equal(await db.collection('plain').isCapped(), false);
});

test('the oldest documents make room; collMod changes the caps', async () => {
  const { db } = ctx;
  const recent = await db.createCollection('recent', { capped: true, size: 5242880, max: 3 });
  for (let i = 1; i <= 5; i++) await recent.insertOne({ _id: i });
  assert.deepEqual((await recent.find().toArray()).map((d) => d._id), [3, 4, 5]);
  await db.command({ collMod: 'recent', cappedMax: 2 });
  assert.deepEqual(await recent.options(), { capped: true, size: 5242880, max: 2 });
  await recent.insertOne({ _id: 6 });
  assert.deepEqual((await recent.find().toArray()).map((d) => d._id), [5, 6]);
  await assert.rejects(db.createCollection('nosize', { capped: true }),
    (e) => e instanceof MongoServerError && e.code === 72);
  await assert.rejects(recent.insertOne({ _id: 7, big: 'x'.repeat(6 * 1024 * 1024) }),
    (e) => e instanceof MongoServerError && e.code === 2);
});

test('a tailable awaitData cursor follows inserts', async () => {
  const { db } = ctx;
  const events = await db.createCollection('events', { capped: true, size: 100000 });
  await events.insertOne({ _id: 1, n: 'first' });
  const cursor = events.find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 200 });
  assert.deepEqual(await cursor.next(), { _id: 1, n: 'first' });
  setTimeout(() => { events.insertOne({ _id: 2, n: 'second' }); }, 300);
  // next() keeps getMore-ing (each waiting up to maxAwaitTimeMS) until the insert arrives.
  assert.deepEqual(await cursor.next(), { _id: 2, n: 'second' });
  assert.equal(cursor.closed, false);
  await cursor.close();
  await assert.rejects(db.collection('plain').find({}, { tailable: true }).toArray(),
    (e) => e instanceof MongoServerError && e.code === 2);
});

test('convertToCapped and cloneCollectionAsCapped', async () => {
  const { db } = ctx;
  const orders = db.collection('orders');
  await orders.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
  await orders.createIndex({ x: 1 });
  assert.deepEqual(withoutClusterTime(await db.command({ cloneCollectionAsCapped: 'orders', toCollection: 'orders_copy', size: 4096 })),
    { ok: 1 });
  assert.deepEqual(await db.collection('orders_copy').options(), { capped: true, size: 4096 });
  assert.deepEqual(withoutClusterTime(await db.command({ convertToCapped: 'orders', size: 8192 })), { ok: 1 });
  assert.equal(await orders.isCapped(), true);
  assert.deepEqual((await orders.find().toArray()).map((d) => d._id), [1, 2, 3]);
  assert.deepEqual((await orders.indexes()).map((i) => i.name), ['_id_']);
  await assert.rejects(db.command({ convertToCapped: 'absent', size: 4096 }),
    (e) => e instanceof MongoServerError && e.code === 26);
  await assert.rejects(db.command({ convertToCapped: 'orders' }),
    (e) => e instanceof MongoServerError && e.code === 40414);
});
