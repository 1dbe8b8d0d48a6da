// The listener's framing, spoken byte by byte: malformed messages close only their own
// connection (the worker keeps serving everyone else), moreToCome gets no reply, and the
// legacy OP_QUERY handshake is answered with OP_REPLY.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { BSON, MongoClient } = require('mongodb');
const { withoutClusterTime } = require('./use_database');

const socketPath = process.env.MONGODB_SOCKET;
let client;

before(async () => {
  client = new MongoClient(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
});
after(async () => client.close());

function header(length, requestId, opCode) {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function opMsg(requestId, flags, body) {
  const doc = BSON.serialize(body);
  const payload = Buffer.concat([Buffer.from(Uint32Array.of(flags).buffer), Buffer.from([0]), doc]);
  return Buffer.concat([header(16 + payload.length, requestId, 2013), payload]);
}

// Sends `bytes`; resolves with everything received until the server closes the socket
// or `waitMs` passes.
function exchange(bytes, waitMs = 1000) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    const chunks = [];
    let closed = false;
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => { closed = true; resolve({ closed, data: Buffer.concat(chunks) }); });
    s.on('connect', () => s.write(bytes));
    setTimeout(() => { if (!closed) { s.destroy(); resolve({ closed: false, data: Buffer.concat(chunks) }); } }, waitMs);
  });
}

function replyBody(data) {
  assert.ok(data.length >= 21, 'a reply arrived');
  assert.equal(data.readInt32LE(0), data.length);
  assert.equal(data.readInt32LE(12), 2013);
  assert.equal(data[20], 0);
  return BSON.deserialize(data.subarray(21));
}

test('OP_MSG ping over a raw socket', async () => {
  const { data } = await exchange(opMsg(1, 0, { ping: 1, $db: 'admin' }), 500);
  assert.equal(data.readInt32LE(8), 1);  // responseTo
  assert.deepEqual(withoutClusterTime(replyBody(data)), { ok: 1 });
});

test('moreToCome: the command runs and no reply is sent', async () => {
  const { data } = await exchange(opMsg(2, 2, { insert: 'mtc', documents: [{ _id: 1 }], $db: 'wiretest' }), 500);
  assert.equal(data.length, 0);
  const found = await client.db('wiretest').collection('mtc').findOne({ _id: 1 });
  assert.deepEqual(found, { _id: 1 });
  await client.db('wiretest').dropDatabase();
});

test('legacy OP_QUERY isMaster gets an OP_REPLY; other OP_QUERY gets 352', async () => {
  function opQuery(requestId, ns, query) {
    const doc = BSON.serialize(query);
    const payload = Buffer.concat([Buffer.alloc(4), Buffer.from(ns + '\0'), Buffer.from(Int32Array.of(0, -1).buffer), doc]);
    return Buffer.concat([header(16 + payload.length, requestId, 2004), payload]);
  }
  let { data } = await exchange(opQuery(3, 'admin.$cmd', { isMaster: 1 }), 500);
  assert.equal(data.readInt32LE(12), 1);  // OP_REPLY
  assert.equal(data.readInt32LE(32), 1);  // numberReturned
  let reply = BSON.deserialize(data.subarray(36));
  assert.equal(reply.ismaster, true);
  assert.equal(reply.ok, 1);
  ({ data } = await exchange(opQuery(4, 'test.$cmd', { find: 'c' }), 500));
  reply = BSON.deserialize(data.subarray(36));
  assert.equal(reply.ok, 0);
  assert.equal(reply.code, 352);
});

test('malformed messages close their connection, and only theirs', async () => {
  const good = opMsg(5, 0, { ping: 1, $db: 'admin' });
  const badSection = Buffer.from(good);
  badSection[20] = 7;  // unknown section kind
  const unknownFlag = opMsg(6, 1 << 4, { ping: 1, $db: 'admin' });
  const cases = {
    'length shorter than a header': header(8, 1, 2013),
    'length past the maximum': header(48000001, 1, 2013),
    'unknown opcode': Buffer.concat([header(20, 1, 9999), Buffer.alloc(4)]),
    'OP_COMPRESSED is never negotiated': Buffer.concat([header(20, 1, 2012), Buffer.alloc(4)]),
    'unknown section kind': badSection,
    'unknown required flag bit': unknownFlag,
    'truncated body': Buffer.concat([header(26, 1, 2013), Buffer.alloc(4), Buffer.from([0]), Buffer.from([30, 0, 0, 0, 1])]),
  };
  const alive = client.db('admin');
  for (const [name, bytes] of Object.entries(cases)) {
    const { closed, data } = await exchange(bytes, 2000);
    assert.ok(closed, `${name}: connection closed`);
    assert.equal(data.length, 0, `${name}: no reply`);
    assert.deepEqual(withoutClusterTime(await alive.command({ ping: 1 })), { ok: 1 }, `${name}: others still served`);
  }
});
