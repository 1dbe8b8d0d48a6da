// A unified-format test runner (../shared/conformance/mongodb-specifications/docs/
// unified-test-format.md) on MongoDB's Node.js driver, over micromongo-server's wire
// protocol: operations go through the driver, results, errors, outcomes and command
// monitoring events (what the driver sent) are matched as the format says.
//
//   node unified_runner.js <suite directory> <suite name>     (MONGODB_URI: the server)
//
// Prints one line per failed test, the skip reasons, and
//   <suite> (wire): N passed, N failed, N skipped
// Exit status 1 if any test failed. Skipped: what a standalone worker cannot have
// (sessions, transactions, fail points, replica sets), stated per reason.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { MongoClient, MongoServerError, BSON } = require('mongodb');

const { EJSON } = BSON;
const SERVER_VERSION = [8, 0, 0];

class Skip extends Error {}

function versionAtLeast(v) {
  const parts = v.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const a = SERVER_VERSION[i];
    const b = parts[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

// The worker's topology: a standalone, or a single-node replica set when it runs with
// --replSet (with_wire_server.sh sets MM_TOPOLOGY then).
const TOPOLOGY = process.env.MM_TOPOLOGY ?? 'single';
// A replica set is reached as one (by TCP, naming the set): the socket's URI connects
// directly, and drivers then send the read preferences of a single server, which the
// suites check.
const URI = TOPOLOGY === 'replicaset' && process.env.MONGODB_TCP_URI ? process.env.MONGODB_TCP_URI : process.env.MONGODB_URI;

// Why a runOnRequirements list is not met by a standalone 8.0 server (null: met).
function unmet(requirements) {
  if (!requirements) return null;
  let reason = null;
  for (const r of requirements) {
    let why = null;
    if (r.minServerVersion && !versionAtLeast(r.minServerVersion)) why = `needs server ${r.minServerVersion}`;
    if (r.maxServerVersion && versionAtLeast(r.maxServerVersion) &&
        r.maxServerVersion.split('.').slice(0, 3).join('.') !== '8.0' &&
        !r.maxServerVersion.startsWith('8.0')) {
      why = `needs server <= ${r.maxServerVersion}`;
    }
    if (r.topologies && !r.topologies.includes(TOPOLOGY)) why = `needs topology ${r.topologies.join('/')}`;
    if (r.serverless === 'require') why = 'needs serverless';
    if (r.auth === true) why = 'needs authentication';
    if (r.csfle === true) why = 'needs client-side encryption';
    if (r.serverParameters) why = 'needs server parameters';
    if (!why) return null;
    reason = why;
  }
  return reason;
}

// ---- Matching (unified-test-format.md, "Evaluating Matches") ----

function bsonType(v) {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  switch (v._bsontype) {
    case 'Int32': return 'int';
    case 'Double': return 'double';
    case 'Long': return 'long';
    case 'Decimal128': return 'decimal';
    case 'ObjectId': return 'objectId';
    case 'Binary': return 'binData';
    case 'Timestamp': return 'timestamp';
    case 'BSONRegExp': return 'regex';
    case 'MinKey': return 'minKey';
    case 'MaxKey': return 'maxKey';
    case 'Code': return v.scope ? 'javascriptWithScope' : 'javascript';
    case 'BSONSymbol': return 'symbol';
    default: return 'object';
  }
}

function asNumber(v) {
  if (typeof v === 'number') return v;
  if (v && (v._bsontype === 'Int32' || v._bsontype === 'Double')) return v.valueOf();
  if (v && v._bsontype === 'Long') return v.toNumber();
  return null;
}

function isDocument(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) &&
    !(v instanceof RegExp) && v._bsontype === undefined;
}

function fail(msg) {
  throw new Error(msg);
}

function show(v) {
  try { return EJSON.stringify(v, { relaxed: true }); } catch { return String(v); }
}

function matches(expected, actual, ctx, root, where = '') {
  if (actual instanceof Map) actual = Object.fromEntries(actual);  // the driver's sort specs
  if (isDocument(expected)) {
    const keys = Object.keys(expected);
    if (keys.length === 1 && keys[0].startsWith('$$')) return special(keys[0], expected[keys[0]], actual, ctx, where, root);
    if (!isDocument(actual)) fail(`${where}: expected a document ${show(expected)}, got ${show(actual)}`);
    for (const k of keys) {
      const e = expected[k];
      if (isDocument(e) && Object.keys(e).length === 1 && Object.keys(e)[0] === '$$exists') {
        if (e.$$exists !== (actual[k] !== undefined)) fail(`${where}.${k}: $$exists ${e.$$exists}`);
        continue;
      }
      if (isDocument(e) && Object.keys(e).length === 1 && Object.keys(e)[0] === '$$unsetOrMatches' && actual[k] === undefined) continue;
      if (!(k in actual)) fail(`${where}.${k}: missing (expected ${show(e)})`);
      matches(e, actual[k], ctx, false, `${where}.${k}`);
    }
    if (!root) {
      for (const k of Object.keys(actual)) {
        if (!(k in expected)) fail(`${where}: unexpected field ${k} in ${show(actual)}`);
      }
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) fail(`${where}: expected an array ${show(expected)}, got ${show(actual)}`);
    if (expected.length !== actual.length) fail(`${where}: expected ${expected.length} elements ${show(expected)}, got ${show(actual)}`);
    expected.forEach((e, i) => matches(e, actual[i], ctx, false, `${where}[${i}]`));
    return;
  }
  const en = asNumber(expected);
  const an = asNumber(actual);
  if (en !== null || an !== null) {
    if (en === null || an === null || en !== an) fail(`${where}: expected ${show(expected)}, got ${show(actual)}`);
    return;
  }
  if (show(expected) !== show(actual) || bsonType(expected) !== bsonType(actual)) {
    fail(`${where}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

function special(op, arg, actual, ctx, where, root) {
  switch (op) {
    case '$$exists':
      if (arg !== (actual !== undefined)) fail(`${where}: $$exists ${arg}`);
      return;
    case '$$type': {
      const types = Array.isArray(arg) ? arg : [arg];
      const t = bsonType(actual);
      const ok = types.some((x) => x === t || (x === 'number' && ['int', 'long', 'double', 'decimal'].includes(t)) ||
        (x === 'long' && t === 'int') || (x === 'int' && t === 'long' && Number.isSafeInteger(asNumber(actual))));
      if (!ok) fail(`${where}: $$type ${show(arg)}, got ${t}`);
      return;
    }
    case '$$unsetOrMatches':
      if (actual === undefined) return;
      return matches(arg, actual, ctx, root, where);
    case '$$matchesEntity':
      return matches(ctx.entities[arg], actual, ctx, false, where);
    case '$$lte':
      if (!(asNumber(actual) <= asNumber(arg))) fail(`${where}: $$lte ${show(arg)}, got ${show(actual)}`);
      return;
    case '$$matchAsRoot':
      return matches(arg, actual, ctx, true, where);
    case '$$matchAsDocument':
      return matches(arg, EJSON.parse(actual), ctx, false, where);
    case '$$sessionLsid': {
      const session = ctx.entities[arg];
      if (!session?.id) fail(`${where}: no session ${arg}`);
      return matches(session.id, actual, ctx, false, where);
    }
    default:
      throw new Skip(`special operator ${op}`);
  }
}

// ---- Operations ----

const RETURN_DOCUMENT = { Before: 'before', After: 'after' };

// The driver takes option values as JavaScript numbers (it ignores an Int32 batchSize and
// cannot read an Int32 in a sort); documents it only serializes keep their BSON types.
function plainNumbers(v) {
  const n = asNumber(v);
  if (n !== null) return n;
  if (Array.isArray(v)) return v.map(plainNumbers);
  if (isDocument(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainNumbers(x)]));
  return v;
}

const DOCUMENT_OPTIONS = new Set(['let', 'projection', 'hint', 'comment', 'min', 'max']);

function optionsOf(args, drop = []) {
  const o = {};
  for (const [k, v] of Object.entries(args)) {
    if (drop.includes(k)) continue;
    if (k === 'returnDocument') o.returnDocument = RETURN_DOCUMENT[v];
    else o[k] = DOCUMENT_OPTIONS.has(k) ? v : plainNumbers(v);
  }
  return o;
}

// bulkWrite models: their sort and option values as the driver takes them.
function models(requests) {
  return requests.map((r) => {
    const [kind, m] = Object.entries(r)[0];
    const out = { ...m };
    for (const k of ['sort', 'upsert', 'collation']) if (k in out) out[k] = plainNumbers(out[k]);
    return { [kind]: out };
  });
}

// clientBulkWrite models as the Node.js driver takes them ({name, namespace, ...}).
function clientModels(models) {
  return models.map((m) => {
    const [name, fields] = Object.entries(m)[0];
    const out = { name, ...fields };
    for (const k of ['sort', 'upsert', 'collation']) if (k in out) out[k] = plainNumbers(out[k]);
    return out;
  });
}

function mapToObject(m) {
  return m === undefined ? undefined : Object.fromEntries([...m].map(([k, v]) => [String(k), v]));
}

function clientBulkResult(r) {
  const out = {
    insertedCount: r.insertedCount, upsertedCount: r.upsertedCount, matchedCount: r.matchedCount,
    modifiedCount: r.modifiedCount, deletedCount: r.deletedCount,
  };
  for (const k of ['insertResults', 'updateResults', 'deleteResults']) {
    if (r[k] !== undefined) out[k] = mapToObject(r[k]);
  }
  // The specification's UpdateResult; the driver adds didUpsert.
  if (out.updateResults) {
    for (const [i, u] of Object.entries(out.updateResults)) {
      const { didUpsert, ...rest } = u;
      out.updateResults[i] = rest;
    }
  }
  return out;
}

function bulkResult(r) {
  return {
    insertedCount: r.insertedCount, matchedCount: r.matchedCount, modifiedCount: r.modifiedCount,
    deletedCount: r.deletedCount, upsertedCount: r.upsertedCount,
    upsertedIds: Object.fromEntries(Object.entries(r.upsertedIds ?? {})),
    insertedIds: Object.fromEntries(Object.entries(r.insertedIds ?? {})),
  };
}

// The lsid of the last two commands a client started (assertSameLsidOnLastTwoCommands).
function lastTwoLsids(ctx, client) {
  const started = ctx.events[client].filter((e) => e.commandStartedEvent).map((e) => e.commandStartedEvent);
  if (started.length < 2) fail(`fewer than two commands on ${client}`);
  return started.slice(-2).map((e) => EJSON.stringify(e.command.lsid));
}

// The unified format's testRunner operations that need no fail points.
async function runTestRunner(op, ctx, admin) {
  const args = op.arguments ?? {};
  switch (op.name) {
    case 'assertCollectionExists':
    case 'assertCollectionNotExists': {
      const names = await admin.db(args.databaseName).listCollections({}, { nameOnly: true }).toArray();
      const exists = names.some((c) => c.name === args.collectionName);
      if (exists !== (op.name === 'assertCollectionExists')) fail(`${op.name} ${args.databaseName}.${args.collectionName}`);
      return;
    }
    case 'assertIndexExists':
    case 'assertIndexNotExists': {
      const indexes = await admin.db(args.databaseName).collection(args.collectionName).listIndexes().toArray().catch(() => []);
      const exists = indexes.some((i) => i.name === args.indexName);
      if (exists !== (op.name === 'assertIndexExists')) fail(`${op.name} ${args.indexName}`);
      return;
    }
    case 'assertSameLsidOnLastTwoCommands':
    case 'assertDifferentLsidOnLastTwoCommands': {
      const [a, b] = lastTwoLsids(ctx, args.client);
      if ((a === b) !== (op.name === 'assertSameLsidOnLastTwoCommands')) fail(`${op.name}: ${a} vs ${b}`);
      return;
    }
    case 'assertSessionTransactionState': {
      const states = {
        NO_TRANSACTION: 'none', STARTING_TRANSACTION: 'starting', TRANSACTION_IN_PROGRESS: 'in_progress',
        TRANSACTION_COMMITTED: 'committed', TRANSACTION_COMMITTED_EMPTY: 'committed', TRANSACTION_ABORTED: 'aborted',
      };
      const got = states[ctx.entities[args.session].transaction.state];
      if (got !== args.state) fail(`session ${args.session} in transaction state ${got}, expected ${args.state}`);
      return;
    }
    case 'createEntities':
      return makeEntities(args.entities, ctx);
    case 'failPoint': {
      const name = args.failPoint.configureFailPoint;
      if (name !== 'failCommand' && name !== 'failGetMoreAfterCursorCheckout') throw new Skip(`fail point ${name}`);
      // Configured through the test's client; turned off after the test (runTest).
      await ctx.entities[args.client].db('admin').command(args.failPoint);
      ctx.failPoints.push(args.failPoint.configureFailPoint);
      return;
    }
    case 'assertSessionDirty':
    case 'assertSessionNotDirty': {
      const dirty = Boolean(ctx.entities[args.session].serverSession?.isDirty);
      if (dirty !== (op.name === 'assertSessionDirty')) fail(`${op.name}: the session is ${dirty ? '' : 'not '}dirty`);
      return;
    }
    case 'assertSessionPinned':
    case 'assertSessionUnpinned':
      throw new Skip('sessions pinned to a mongos');
    default:
      throw new Skip(`test runner operation ${op.name}`);
  }
}

async function run(op, ctx, admin) {
  const target = ctx.entities[op.object];
  const given = op.arguments ?? {};
  if (op.object === 'testRunner') return runTestRunner(op, ctx, admin);
  if (target === undefined) throw new Skip(`entity ${op.object} of an unsupported kind`);
  if (given.session && !ctx.entities[given.session]) throw new Skip(`session ${given.session} of an unsupported kind`);
  if (op.name === 'endSession') return target.endSession();
  if (op.name === 'getSnapshotTime') return target.snapshotTime;
  switch (op.name) {
    case 'startTransaction': return target.startTransaction(plainNumbers(given));
    case 'commitTransaction': return target.commitTransaction();
    case 'abortTransaction': return target.abortTransaction();
    case 'withTransaction': {
      const { callback, ...opts } = given;
      return target.withTransaction(async () => {
        // An expected error inside the callback is checked, then ends the callback as it
        // would an application's (the test expects withTransaction to report it).
        for (const inner of callback) await runExpecting(inner, ctx, admin, true);
      }, plainNumbers(opts));
    }
  }
  // The session travels as an option, as the driver takes it.
  const args = { ...given };
  if (args.session) args.session = ctx.entities[args.session];
  const options = (a, drop = []) => {
    const o = optionsOf(a, drop.concat(['session']));
    if (a.session) o.session = a.session;
    return o;
  };
  switch (op.name) {
    case 'insertOne': return target.insertOne(args.document, options(args, ['document']));
    case 'insertMany': {
      const r = await target.insertMany(args.documents, options(args, ['documents']));
      return { insertedIds: Object.fromEntries(Object.entries(r.insertedIds)), insertedCount: r.insertedCount };
    }
    case 'updateOne': return target.updateOne(args.filter, args.update, options(args, ['filter', 'update']));
    case 'updateMany': return target.updateMany(args.filter, args.update, options(args, ['filter', 'update']));
    case 'replaceOne': return target.replaceOne(args.filter, args.replacement, options(args, ['filter', 'replacement']));
    case 'deleteOne': return target.deleteOne(args.filter, options(args, ['filter']));
    case 'deleteMany': return target.deleteMany(args.filter, options(args, ['filter']));
    case 'find': return target.find(args.filter, options(args, ['filter'])).toArray();
    case 'findOne': return target.findOne(args.filter, options(args, ['filter']));
    case 'countDocuments': return target.countDocuments(args.filter, options(args, ['filter']));
    case 'estimatedDocumentCount': return target.estimatedDocumentCount(options(args));
    case 'count': return target.count(args.filter, options(args, ['filter']));
    case 'distinct': return target.distinct(args.fieldName, args.filter, options(args, ['fieldName', 'filter']));
    case 'aggregate': return target.aggregate(args.pipeline, options(args, ['pipeline'])).toArray();
    case 'findOneAndUpdate': return target.findOneAndUpdate(args.filter, args.update, options(args, ['filter', 'update']));
    case 'findOneAndReplace':
      return target.findOneAndReplace(args.filter, args.replacement, options(args, ['filter', 'replacement']));
    case 'findOneAndDelete': return target.findOneAndDelete(args.filter, options(args, ['filter']));
    case 'bulkWrite': return bulkResult(await target.bulkWrite(models(args.requests), options(args, ['requests'])));
    case 'clientBulkWrite':
      return clientBulkResult(await target.bulkWrite(clientModels(args.models), options(args, ['models'])));
    case 'createIndex': return target.createIndex(args.keys, options(args, ['keys']));
    case 'dropIndex': return target.dropIndex(args.name, options(args, ['name']));
    case 'listIndexes': return target.listIndexes(options(args)).toArray();
    case 'dropCollection': return target.dropCollection(args.collection, options(args, ['collection']));
    case 'createCollection': return target.createCollection(args.collection, options(args, ['collection']));
    case 'listDatabases': return (await target.db('admin').admin().listDatabases(options(args))).databases;
    case 'listCollections': return target.listCollections(args.filter, options(args, ['filter'])).toArray();
    case 'runCommand': return target.command(args.command, options(args, ['command', 'commandName']));
    case 'runCursorCommand': {
      // The driver's generic cursor: batchSize, maxTimeMS and comment apply to its getMores.
      const cursor = target.runCursorCommand(args.command, args.session ? { session: args.session } : {});
      if (args.batchSize !== undefined) cursor.setBatchSize(asNumber(args.batchSize));
      if (args.maxTimeMS !== undefined) cursor.setMaxTimeMS(asNumber(args.maxTimeMS));
      if (args.comment !== undefined) cursor.setComment(args.comment);
      return cursor.toArray();
    }
    case 'createCommandCursor': {
      // A cursor entity: the command runs now (a reply without a cursor is the driver's
      // error), its getMores as the cursor is iterated.
      const cursor = target.runCursorCommand(args.command, args.session ? { session: args.session } : {});
      if (args.batchSize !== undefined) cursor.setBatchSize(asNumber(args.batchSize));
      if (args.maxTimeMS !== undefined) cursor.setMaxTimeMS(asNumber(args.maxTimeMS));
      if (args.comment !== undefined) cursor.setComment(args.comment);
      await cursor.hasNext();
      return cursor;
    }
    case 'createFindCursor': {
      const cursor = target.find(args.filter, options(args, ['filter']));
      await cursor.hasNext();
      return cursor;
    }
    case 'rename': return target.rename(args.to, options(args, ['to']));
    case 'createChangeStream': {
      // The driver opens a change stream at its first read; the specification's runner
      // opens it here (its aggregate is among the events the tests expect first).
      const stream = target.watch(args.pipeline ?? [], options(args, ['pipeline']));
      await stream.cursor.cursorInit();
      return stream;
    }
    case 'iterateOnce': return target.tryNext();
    case 'iterateUntilDocumentOrError': return target.next();
    case 'close': return target.close();
    case 'modifyCollection': {
      const { collection, ...changes } = optionsOf(args, ['session']);
      return target.command({ collMod: collection, ...changes }, args.session ? { session: args.session } : {});
    }
    default: throw new Skip(`operation ${op.name}`);
  }
}

function checkError(expect, err, ctx) {
  if (err instanceof Skip) throw err;
  // A client bulk write's top-level error is the cause of the driver's MongoClientBulkWriteError.
  const top = err.name === 'MongoClientBulkWriteError' && err.cause ? err.cause : err;
  if (expect.errorResponse !== undefined) {
    if (!top.errorResponse) fail(`expected an error response, got ${err.name}: ${err.message}`);
    matches(expect.errorResponse, top.errorResponse, ctx, true, 'errorResponse');
  }
  const server = err instanceof MongoServerError || err.code !== undefined && err.name?.startsWith('Mongo') && err.name !== 'MongoInvalidArgumentError';
  if (expect.isClientError === true && server) fail(`expected a client error, got ${err.name}: ${err.message}`);
  if (expect.isClientError === false && !server) fail(`expected a server error, got ${err.name}: ${err.message}`);
  if (expect.errorCode !== undefined && top.code !== asNumber(expect.errorCode)) fail(`expected error code ${expect.errorCode}, got ${top.code} (${err.message})`);
  if (expect.errorCodeName !== undefined && err.codeName !== expect.errorCodeName) {
    fail(`expected error ${expect.errorCodeName}, got ${err.codeName} (${err.message})`);
  }
  if (expect.errorContains !== undefined && !err.message.toLowerCase().includes(expect.errorContains.toLowerCase())) {
    fail(`expected an error containing '${expect.errorContains}', got '${err.message}'`);
  }
  for (const label of expect.errorLabelsContain ?? []) {
    if (!err.hasErrorLabel?.(label)) fail(`expected error label ${label}, got ${JSON.stringify(err.errorLabels ?? [])} (${err.message})`);
  }
  for (const label of expect.errorLabelsOmit ?? []) {
    if (err.hasErrorLabel?.(label)) fail(`expected no error label ${label} (${err.message})`);
  }
  if (expect.writeConcernErrors) throw new Skip('write concern errors (a standalone worker has no replication)');
  if (expect.writeErrors) {
    if (!(err.writeErrors instanceof Map)) fail(`expected client bulk write errors, got ${err.name}: ${err.message}`);
    const got = mapToObject(err.writeErrors);
    if (Object.keys(got).length !== Object.keys(expect.writeErrors).length) {
      fail(`expected write errors at ${Object.keys(expect.writeErrors)}, got ${Object.keys(got)}`);
    }
    // Each error is matched as a root document (the driver adds its message).
    for (const [i, want] of Object.entries(expect.writeErrors)) matches(want, got[i], ctx, true, `writeErrors.${i}`);
  }
  if (expect.expectResult !== undefined) {
    if (err.partialResult !== undefined || err.writeErrors instanceof Map) {
      if (!err.partialResult) fail(`expected a partial result with the error, got none (${err.message})`);
      matches(expect.expectResult, clientBulkResult(err.partialResult), ctx, true, 'partial result');
    } else {
      if (!err.result) fail(`expected a partial result with the error, got none (${err.message})`);
      matches(expect.expectResult, bulkResult(err.result), ctx, true, 'partial result');
    }
  }
}

// ---- Entities and the test loop ----

// The unified format's sensitive commands, which a client observes only with
// observeSensitiveCommands. The driver redacts them: a hello that carried
// speculativeAuthenticate shows an empty command and reply.
const SENSITIVE = new Set(['authenticate', 'saslstart', 'saslcontinue', 'getnonce', 'createuser', 'updateuser',
  'copydbgetnonce', 'copydbsaslstart', 'copydb']);
function isSensitive(ev) {
  const name = ev.commandName.toLowerCase();
  if (SENSITIVE.has(name)) return true;
  if (name !== 'hello' && name !== 'ismaster') return false;
  const shown = ev.command ?? ev.reply ?? {};
  return Object.keys(shown).length === 0;
}

// The Node.js driver adds wtimeout: 10000 to the write concern of every commitTransaction
// and abortTransaction; the specification adds it (with w: majority) only when a commit is
// retried. A transaction's first commit, and every abort, are shown as the specification
// has them; a retried commit keeps what the driver sent.
function normalizeCommitOrAbort(command, name, seen) {
  if (name !== 'commitTransaction' && name !== 'abortTransaction') return;
  const key = `${EJSON.stringify(command.lsid)}/${command.txnNumber}`;
  const retriedCommit = name === 'commitTransaction' && seen.has(key);
  seen.add(key);
  if (retriedCommit || command.writeConcern?.wtimeout === undefined) return;
  if (Number(command.writeConcern.wtimeout) === 10000) delete command.writeConcern.wtimeout;
}

async function makeEntities(spec, ctx) {
  for (const entity of spec ?? []) {
    const [kind, e] = Object.entries(entity)[0];
    if (kind === 'client') {
      if (e.uriOptions && Object.keys(e.uriOptions).some((k) => !['retryWrites', 'retryReads', 'appname', 'w', 'readConcernLevel'].includes(k))) {
        throw new Skip(`client uriOptions ${Object.keys(e.uriOptions).join(',')}`);
      }
      const client = new MongoClient(URI, {
        monitorCommands: true, serverSelectionTimeoutMS: 5000, ...(TOPOLOGY === 'single' ? { retryWrites: false } : {}),
        ...plainNumbers(e.uriOptions ?? {}),
        ...(e.serverApi ? { serverApi: plainNumbers(e.serverApi) } : {}),
      });
      await client.connect();
      const events = [];
      const observe = e.observeEvents ?? [];
      const ignore = new Set(e.ignoreCommandMonitoringEvents ?? []);
      ignore.add('configureFailPoint');
      const record = (type) => (ev) => {
        if (!observe.includes(type) || ignore.has(ev.commandName)) return;
        if (!e.observeSensitiveCommands && isSensitive(ev)) return;
        if (ev.command) {
          // The command as sent: the driver later mutates objects an event shares with it
          // (a transaction's readConcern gains the next transaction's afterClusterTime).
          const command = EJSON.parse(EJSON.stringify(ev.command, { relaxed: false }), { relaxed: false });
          normalizeCommitOrAbort(command, ev.commandName, committed);
          ev = { commandName: ev.commandName, databaseName: ev.databaseName, command };
        }
        events.push({ [type]: ev });
      };
      const committed = new Set();
      client.on('commandStarted', record('commandStartedEvent'));
      client.on('commandSucceeded', record('commandSucceededEvent'));
      client.on('commandFailed', record('commandFailedEvent'));
      ctx.entities[e.id] = client;
      ctx.events[e.id] = events;
      ctx.clients.push(client);
    } else if (kind === 'database') {
      ctx.entities[e.id] = ctx.entities[e.client].db(e.databaseName, e.databaseOptions);
    } else if (kind === 'collection') {
      const opts = plainNumbers(e.collectionOptions ?? {});
      ctx.entities[e.id] = ctx.entities[e.database].collection(e.collectionName, opts);
    } else if (kind === 'session') {
      // Sessions are the driver's: it sends their lsid, which a standalone worker accepts;
      // a replica set's sessions also hold transactions and snapshot reads. The driver
      // takes no snapshotTime option: the saved time is set on the session as the driver
      // sets it after a first snapshot read.
      const { snapshotTime, ...opts } = e.sessionOptions ?? {};
      const session = ctx.entities[e.client].startSession(plainNumbers(opts));
      if (snapshotTime !== undefined) session.snapshotTime = ctx.entities[snapshotTime];
      ctx.entities[e.id] = session;
    } else {
      throw new Skip(`entity kind ${kind} (buckets, ...)`);
    }
  }
}

async function loadInitialData(data, admin) {
  for (const d of data ?? []) {
    const db = admin.db(d.databaseName);
    await db.collection(d.collectionName).drop().catch(() => {});
    if (d.createOptions || d.documents.length === 0) await db.createCollection(d.collectionName, d.createOptions ?? {});
    if (d.documents.length > 0) await db.collection(d.collectionName).insertMany(d.documents);
  }
}

function matchEvents(expectEvents, ctx) {
  for (const group of expectEvents) {
    if (group.eventType && group.eventType !== 'command') throw new Skip(`${group.eventType} events`);
    const actual = ctx.events[group.client];
    const expected = group.events;
    if (group.ignoreExtraEvents ? actual.length < expected.length : actual.length !== expected.length) {
      fail(`expected ${expected.length} events, got ${actual.length}: ${actual.map((a) => Object.values(a)[0].commandName).join(', ')}`);
    }
    expected.forEach((e, i) => {
      const [type, want] = Object.entries(e)[0];
      const got = actual[i][type];
      if (!got) fail(`event ${i}: expected ${type}, got ${Object.keys(actual[i])[0]}`);
      if (want.commandName !== undefined && want.commandName !== got.commandName) fail(`event ${i}: command ${got.commandName}, expected ${want.commandName}`);
      if (want.databaseName !== undefined && want.databaseName !== got.databaseName) fail(`event ${i}: database ${got.databaseName}`);
      if (want.command !== undefined) matches(want.command, got.command, ctx, true, `event ${i} command`);
      if (want.reply !== undefined) matches(want.reply, got.reply, ctx, true, `event ${i} reply`);
    });
  }
}

// Tests this runner cannot hold the server to, each with its reason: where the Node.js
// driver itself departs from the specification, and what the worker does not have yet.
const KNOWN = [
  [/^bypassDocumentValidation\.json: (Aggregate with \$out|BulkWrite|FindOneAndReplace|FindOneAndUpdate|InsertMany) passes bypassDocumentValidation: false$/,
   'the Node.js driver leaves out bypassDocumentValidation: false'],
  [/^create-null-ids\.json: inserting _id with type null via (insertOne|insertMany|bulkWrite|clientBulkWrite)$/,
   'the Node.js driver replaces a null _id with an ObjectId'],
  [/^client-bulkWrite-partialResults\.json: partialResult is unset when /,
   'the Node.js driver sets partialResult when no write succeeded'],
  [/^client-bulkWrite\.json: client bulkWrite with writeConcern in a transaction causes a transaction error$/,
   'the Node.js driver sends a client bulkWrite with a write concern inside a transaction instead of refusing it'],
  [/^(db-aggregate(-rawdata|-write-readPreference)?\.json: |poc-crud\.json: Aggregate with \$listLocalSessions$)/,
   '$listLocalSessions: the worker keeps no cache of driver sessions'],
];

// Runs one operation and checks its result or error as the test expects; `rethrow`: an
// expected error is thrown on after the check.
async function runExpecting(op, ctx, admin, rethrow = false) {
  let result;
  let error = null;
  try {
    result = await run(op, ctx, admin);
  } catch (err) {
    if (err instanceof Skip) throw err;
    error = err;
  }
  if (op.ignoreResultAndError) {
    if (rethrow && error) throw error;  // inside a withTransaction callback, as an application's
    return;
  }
  if (op.expectError) {
    if (!error) fail(`${op.name}: expected an error, got ${show(result)}`);
    checkError(op.expectError, error, ctx);
    if (rethrow) throw error;
    return;
  }
  if (error) fail(`${op.name}: ${error.name}: ${error.message}`);
  if (op.expectResult !== undefined) {
    const iterable = ['find', 'aggregate', 'listIndexes', 'listCollections'].includes(op.name);
    if (iterable) {
      if (!Array.isArray(result) || result.length !== op.expectResult.length) {
        fail(`${op.name}: expected ${show(op.expectResult)}, got ${show(result)}`);
      }
      op.expectResult.forEach((e, i) => matches(e, result[i], ctx, true, `${op.name}[${i}]`));
    } else {
      matches(op.expectResult, result, ctx, true, op.name);
    }
  }
  if (op.saveResultAsEntity) ctx.entities[op.saveResultAsEntity] = result;
}

async function runTest(file, test, admin, fileName) {
  const why = unmet(file.runOnRequirements) ?? unmet(test.runOnRequirements);
  if (why) throw new Skip(why);
  for (const [pattern, reason] of KNOWN) {
    if (pattern.test(`${fileName}: ${test.description}`)) throw new Skip(reason);
  }
  if (test.skipReason) throw new Skip(`skipped by the suite: ${test.skipReason}`);
  const ctx = { entities: {}, events: {}, clients: [], failPoints: [] };
  try {
    // As the specification's runners do: no transaction of an earlier test holds anything.
    await admin.db('admin').command({ killAllSessions: [] });
    await makeEntities(file.createEntities, ctx);
    await loadInitialData(file.initialData, admin);
    for (const list of Object.values(ctx.events)) list.length = 0;
    for (const op of test.operations) await runExpecting(op, ctx, admin);
    if (test.expectEvents) matchEvents(test.expectEvents, ctx);
    for (const o of test.outcome ?? []) {
      const docs = await admin.db(o.databaseName).collection(o.collectionName).find({}).sort({ _id: 1 }).toArray();
      matches(o.documents, docs, ctx, false, `outcome ${o.collectionName}`);
    }
  } finally {
    for (const name of ctx.failPoints) await admin.db('admin').command({ configureFailPoint: name, mode: 'off' });
    for (const c of ctx.clients) await c.close();
  }
}

async function main() {
  const [dir, suite] = process.argv.slice(2);
  const admin = new MongoClient(URI, { serverSelectionTimeoutMS: 5000 });
  await admin.connect();
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const reasons = new Map();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  for (const name of files) {
    const file = EJSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'), { relaxed: false });
    for (const test of file.tests) {
      try {
        await runTest(file, test, admin, name);
        counts.passed++;
      } catch (err) {
        if (err instanceof Skip) {
          counts.skipped++;
          reasons.set(err.message, (reasons.get(err.message) ?? 0) + 1);
        } else {
          counts.failed++;
          console.log(`FAILED ${name}: ${test.description}: ${err.message}`);
        }
      }
    }
  }
  await admin.close();
  console.log('skipped, by reason:');
  for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${r}`);
  console.log(`${suite} (wire): ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  process.exit(counts.failed > 0 ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
