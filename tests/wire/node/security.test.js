// TLS, mutual TLS and SCRAM-SHA-256 on the wire protocol listener, through MongoDB's
// Node.js driver. Run by tests/wire/secure_wire_test.sh, which starts the servers:
//   A (MM_A_PORT): TLS and --auth-token-file; its unix socket (MM_A_SOCKET) needs neither
//   B (MM_B_PORT): mutual TLS, no token
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient } = require('mongodb');

const env = process.env;
const tls = `tls=true&tlsCAFile=${encodeURIComponent(env.MM_CA)}&directConnection=true`;
const quick = { serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000 };

async function withClient(uri, options, fn) {
  const client = new MongoClient(uri, { ...quick, ...options });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

test('the user micromongo with the token as password works over TLS', async () => {
  // No database in the path: drivers then authenticate against admin, where the user is.
  const uri = `mongodb://micromongo:${env.MM_TOKEN}@127.0.0.1:${env.MM_A_PORT}/?${tls}`;
  await withClient(uri, {}, async (client) => {
    const c = client.db('sec').collection('items');
    await c.insertOne({ _id: 1, name: 'tls' });
    assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, name: 'tls' });
    const status = await client.db('admin').command({ connectionStatus: 1 });
    assert.deepEqual(status.authInfo.authenticatedUsers, [{ user: 'micromongo', db: 'admin' }]);
    assert.deepEqual(status.authInfo.authenticatedUserRoles, [{ role: 'root', db: 'admin' }]);
  });
});

test('explicit SCRAM-SHA-256 and authSource=admin with a database in the path', async () => {
  const uri = `mongodb://micromongo:${env.MM_TOKEN}@127.0.0.1:${env.MM_A_PORT}/sec?${tls}` +
    '&authMechanism=SCRAM-SHA-256&authSource=admin';
  await withClient(uri, {}, async (client) => {
    assert.equal((await client.db().command({ ping: 1 })).ok, 1);
    assert.equal(await client.db().collection('items').countDocuments(), 1);
  });
});

test('authentication failures answer 18 AuthenticationFailed', async () => {
  const cases = [
    ['a wrong password', `micromongo:wrong${env.MM_TOKEN}`, ''],
    ['another user', `someone:${env.MM_TOKEN}`, ''],
    // The user is admin's; a database in the path is where drivers authenticate by default.
    ['the user in another database', `micromongo:${env.MM_TOKEN}`, '&authSource=sec'],
  ];
  for (const [what, credentials, extra] of cases) {
    const uri = `mongodb://${credentials}@127.0.0.1:${env.MM_A_PORT}/?${tls}${extra}`;
    await assert.rejects(withClient(uri, {}, () => null), (e) => {
      assert.equal(e.code, 18, `${what}: ${e.message}`);
      assert.match(e.message, /Authentication failed/, what);
      return true;
    });
  }
});

test('mechanisms other than SCRAM-SHA-256 are unavailable (334)', async () => {
  const uri = `mongodb://micromongo:${env.MM_TOKEN}@127.0.0.1:${env.MM_A_PORT}/?${tls}` +
    '&authMechanism=SCRAM-SHA-1';
  await assert.rejects(withClient(uri, {}, () => null), (e) => e.code === 334);
});

test('without a login only the handshake runs: 13 Unauthorized', async () => {
  const uri = `mongodb://127.0.0.1:${env.MM_A_PORT}/?${tls}`;
  await withClient(uri, {}, async (client) => {
    assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
    await assert.rejects(client.db('sec').collection('items').findOne({}), (e) => {
      assert.equal(e.code, 13);
      assert.equal(e.codeName, 'Unauthorized');
      assert.equal(e.message, 'Command find requires authentication');
      return true;
    });
    await assert.rejects(client.db('sec').collection('items').insertOne({ x: 1 }), (e) => e.code === 13);
    await assert.rejects(client.db().admin().listDatabases(), (e) => e.code === 13);
  });
});

test('the unix socket needs no login (it lives in a private directory)', async () => {
  const uri = `mongodb://${encodeURIComponent(env.MM_A_SOCKET)}/?directConnection=true`;
  await withClient(uri, {}, async (client) => {
    assert.equal(await client.db('sec').collection('items').countDocuments(), 1);
  });
});

test('a TLS listener refuses plaintext and clients that do not trust its certificate', async () => {
  const fail = { serverSelectionTimeoutMS: 1500, connectTimeoutMS: 1500 };
  const plaintext = `mongodb://micromongo:${env.MM_TOKEN}@127.0.0.1:${env.MM_A_PORT}/?directConnection=true`;
  await assert.rejects(withClient(plaintext, fail, () => null));
  const untrusted = `mongodb://micromongo:${env.MM_TOKEN}@127.0.0.1:${env.MM_A_PORT}/?tls=true` +
    `&tlsCAFile=${encodeURIComponent(env.MM_OTHER_CA)}&directConnection=true`;
  await assert.rejects(withClient(untrusted, fail, () => null), /certificate/);
});

test('mutual TLS: a client certificate signed by the client CA is required', async () => {
  const uri = `mongodb://127.0.0.1:${env.MM_B_PORT}/?${tls}`;
  const withCert = `${uri}&tlsCertificateKeyFile=${encodeURIComponent(env.MM_CLIENT_CERT)}`;
  await withClient(withCert, {}, async (client) => {
    await client.db('mutual').collection('c').insertOne({ ok: true });
    assert.equal(await client.db('mutual').collection('c').countDocuments(), 1);
  });
  await assert.rejects(withClient(uri, { serverSelectionTimeoutMS: 1500, connectTimeoutMS: 1500 }, () => null));
});
