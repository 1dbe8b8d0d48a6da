// The everyday shell things, scripted: use, insertMany, find().sort().limit(), updateMany,
// aggregate, createIndex, getIndexes, countDocuments, stats, hideIndex, collMod, show dbs,
// drop, capped and time series collections. Each result is
// checked; a mismatch throws (mongosh then exits non-zero). Prints "session ok" at the end.
function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}
db = db.getSiblingDB('shelltest');
db.people.drop();
const inserted = db.people.insertMany([
  { name: 'Ada', age: 36, langs: ['en', 'fr'] },
  { name: 'Brian', age: 24 },
  { name: 'Chen', age: 41, langs: [] },
  { name: 'Dora', age: null },
]);
check(Object.keys(inserted.insertedIds).length === 4, 'insertMany inserted 4');
const top = db.people.find({ age: { $gt: 20 } }, { _id: 0, name: 1 }).sort({ age: -1 }).limit(2).toArray();
check(JSON.stringify(top) === JSON.stringify([{ name: 'Chen' }, { name: 'Ada' }]), 'find().sort().limit()');
const updated = db.people.updateMany({ age: { $lt: 40 } }, { $inc: { age: 1 } });
check(updated.matchedCount === 2 && updated.modifiedCount === 2, 'updateMany');
const avg = db.people.aggregate([{ $match: { age: { $type: 'number' } } },
                                 { $group: { _id: null, avg: { $avg: '$age' } } }]).toArray();
check(avg[0].avg === (37 + 25 + 41) / 3, 'aggregate $avg');
check(db.people.createIndex({ name: 1 }, { unique: true }) === 'name_1', 'createIndex');
check(db.people.getIndexes().map((i) => i.name).sort().join() === '_id_,name_1', 'getIndexes');
check(db.people.countDocuments({ age: null }) === 1, 'countDocuments({age: null})');
check(db.people.countDocuments() === 4, 'countDocuments()');
let duplicate = null;
try { db.people.insertOne({ name: 'Ada' }); } catch (e) { duplicate = e; }
check(duplicate !== null && duplicate.code === 11000, 'duplicate key 11000');
// Statistics and collection changes: db.stats() (dbStats), db.c.stats() ($collStats),
// hideIndex (collMod), db.runCommand({collMod}) with a validator.
const dbstats = db.stats();
check(dbstats.db === 'shelltest' && Number(dbstats.objects) === 4 && Number(dbstats.indexes) === 2, 'db.stats()');
const cstats = db.people.stats();
check(cstats.count === 4 && cstats.nindexes === 2 && cstats.size > 0, 'db.people.stats()');
const hidden = db.people.hideIndex('name_1');
check(hidden.hidden_old === false && hidden.hidden_new === true, 'hideIndex');
check(db.people.getIndexes().find((i) => i.name === 'name_1').hidden === true, 'the index is hidden');
check(db.runCommand({ collMod: 'people', validator: { age: { $type: 'number' } } }).ok === 1, 'collMod');
let invalid = null;
try { db.people.insertOne({ name: 'Eve', age: 'old' }); } catch (e) { invalid = e; }
check(invalid !== null && invalid.code === 121, 'the new validator refuses a bad document');
const dbs = db.adminCommand({ listDatabases: 1 }).databases.map((d) => d.name);
check(dbs.includes('shelltest'), 'listDatabases has shelltest');
check(db.people.drop() === true, 'drop');
// A capped collection (the manual's examples): isCapped, insertion order, the newest kept.
db.log.drop();
db.createCollection('log', { capped: true, size: 100000, max: 2 });
check(db.log.isCapped() === true, 'isCapped');
db.log.insertMany([{ _id: 3 }, { _id: 2 }, { _id: 1 }]);
check(JSON.stringify(db.log.find().toArray()) === JSON.stringify([{ _id: 2 }, { _id: 1 }]), 'capped: the newest two');
check(db.log.find().sort({ $natural: -1 }).limit(1).toArray()[0]._id === 1, 'sort({$natural: -1})');
check(db.log.drop() === true, 'drop the capped collection');
// A time series collection.
db.weather.drop();
db.createCollection('weather', { timeseries: { timeField: 'ts', metaField: 'sensor', granularity: 'hours' } });
db.weather.insertMany([{ ts: new Date(1000), sensor: 'a', temp: 10 }, { ts: new Date(2000), sensor: 'a', temp: 14 }]);
check(db.weather.aggregate([{ $group: { _id: '$sensor', avg: { $avg: '$temp' } } }]).toArray()[0].avg === 12,
      'time series $avg');
check(db.getCollectionInfos({ name: 'weather' })[0].type === 'timeseries', 'listed as timeseries');
check(db.weather.drop() === true, 'drop the time series collection');
// The worker is a single-node replica set: rs.status() and rs.conf() describe it.
check(rs.status().members[0].stateStr === 'PRIMARY', 'rs.status()');
check(rs.conf().members.length === 1, 'rs.conf()');
// A transaction, as the manual's mongosh examples run one.
db.accounts.drop();
db.accounts.insertMany([{ _id: 'a', balance: 100 }, { _id: 'b', balance: 0 }]);
const txn = db.getMongo().startSession();
const accounts = txn.getDatabase('shelltest').accounts;
txn.startTransaction();
accounts.updateOne({ _id: 'a' }, { $inc: { balance: -30 } });
accounts.updateOne({ _id: 'b' }, { $inc: { balance: 30 } });
check(db.accounts.findOne({ _id: 'b' }).balance === 0, 'uncommitted writes unseen outside');
txn.commitTransaction();
check(db.accounts.findOne({ _id: 'b' }).balance === 30, 'committed');
txn.startTransaction();
accounts.deleteMany({});
txn.abortTransaction();
check(db.accounts.countDocuments() === 2, 'aborted');
txn.endSession();
check(db.accounts.drop() === true, 'drop the accounts');
print('session ok');
