// Time series collections through MongoDB's Node.js driver: create's timeseries option,
// listCollections' type and options, documents sharing an _id, a date required in the
// timeField, the automatic {metaField, timeField} index, collMod's granularity, and $out
// into a time series collection.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { MongoServerError } = require('mongodb');
const { useDatabase, withoutClusterTime } = require('./use_database');

const ctx = useDatabase('nodetimeseries');

test('create, list, insert and query a time series collection', async () => {
  const { db } = ctx;
  const weather = await db.createCollection('weather', {
    timeseries: { timeField: 'timestamp', metaField: 'metadata', granularity: 'hours' },
    expireAfterSeconds: 86400 * 365,
  });
  const [info] = await db.listCollections({ name: 'weather' }).toArray();
  assert.equal(info.type, 'timeseries');
  assert.deepEqual(info.options.timeseries,
    { timeField: 'timestamp', metaField: 'metadata', granularity: 'hours', bucketMaxSpanSeconds: 2592000 });
  assert.deepEqual((await weather.indexes()).map((i) => i.name), ['metadata_1_timestamp_1']);
  // The manual's "Time Series" example data (temperatures of one sensor).
  await weather.insertMany([
    { metadata: { sensorId: 5578, type: 'temperature' }, timestamp: new Date('2021-05-18T00:00:00Z'), temp: 12 },
    { metadata: { sensorId: 5578, type: 'temperature' }, timestamp: new Date('2021-05-18T04:00:00Z'), temp: 11 },
    { metadata: { sensorId: 5578, type: 'temperature' }, timestamp: new Date('2021-05-18T08:00:00Z'), temp: 11 },
    { metadata: { sensorId: 5578, type: 'temperature' }, timestamp: new Date('2021-05-18T12:00:00Z'), temp: 12 },
  ]);
  const found = await weather.find({ timestamp: { $gte: new Date('2021-05-18T04:00:00Z') } })
    .sort({ timestamp: 1 }).project({ _id: 0, temp: 1 }).toArray();
  assert.deepEqual(found, [{ temp: 11 }, { temp: 11 }, { temp: 12 }]);
  const avg = await weather.aggregate([{ $group: { _id: '$metadata.sensorId', avg: { $avg: '$temp' } } }]).toArray();
  assert.deepEqual(avg, [{ _id: 5578, avg: 11.5 }]);
  // _ids may repeat; a date in the timeField is required.
  await weather.insertMany([{ _id: 1, timestamp: new Date(1) }, { _id: 1, timestamp: new Date(2) }]);
  assert.equal(await weather.countDocuments({ _id: 1 }), 2);
  await assert.rejects(weather.insertOne({ temp: 3 }), (e) => e instanceof MongoServerError && e.code === 2);
});

test('collMod raises the granularity, never lowers it', async () => {
  const { db } = ctx;
  await db.createCollection('readings', { timeseries: { timeField: 't', granularity: 'seconds' } });
  assert.deepEqual(withoutClusterTime(await db.command({ collMod: 'readings', timeseries: { granularity: 'minutes' } })), { ok: 1 });
  const [info] = await db.listCollections({ name: 'readings' }).toArray();
  assert.equal(info.options.timeseries.granularity, 'minutes');
  await assert.rejects(db.command({ collMod: 'readings', timeseries: { granularity: 'seconds' } }),
    (e) => e instanceof MongoServerError && e.code === 72);
});

test('$out writes a time series collection (MongoDB 7.0.3+)', async () => {
  const { db } = ctx;
  const source = db.collection('out_source');
  await source.insertMany([
    { time: new Date('2021-05-18T00:00:00Z'), host: 'a', usage: 10 },
    { time: new Date('2021-05-18T01:00:00Z'), host: 'b', usage: 20 },
  ]);
  await source.aggregate([
    { $out: { db: db.databaseName, coll: 'usage', timeseries: { timeField: 'time', metaField: 'host' } } },
  ]).toArray();
  const [info] = await db.listCollections({ name: 'usage' }).toArray();
  assert.equal(info.type, 'timeseries');
  assert.equal(info.options.timeseries.metaField, 'host');
  assert.equal(await db.collection('usage').countDocuments(), 2);
  // Options that disagree with the existing collection's: 7406103; $merge into it: 166.
  await assert.rejects(source.aggregate([
    { $out: { db: db.databaseName, coll: 'usage', timeseries: { timeField: 'usage' } } },
  ]).toArray(), (e) => e instanceof MongoServerError && e.code === 7406103);
  await assert.rejects(source.aggregate([{ $merge: { into: 'usage' } }]).toArray(),
    (e) => e instanceof MongoServerError && e.code === 166);
});
