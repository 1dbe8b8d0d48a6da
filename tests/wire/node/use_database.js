// The setup test files share: a client on MONGODB_URI (set by node_driver_test.sh) and a
// database of their own, dropped before and after the file's tests. Returns an object
// whose `client` and `db` are set once the file's `before` hook has run.
'use strict';
const { before, after } = require('node:test');
const { MongoClient } = require('mongodb');

function useDatabase(name) {
  const ctx = {};
  before(async () => {
    ctx.client = new MongoClient(process.env.MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
    await ctx.client.connect();
    ctx.db = ctx.client.db(name);
    await ctx.db.dropDatabase();
  });
  after(async () => {
    await ctx.db.dropDatabase();
    await ctx.client.close();
  });
  return ctx;
}

// A reply without the cluster time a replica set adds to every reply ($clusterTime,
// operationTime), for comparing the rest exactly.
function withoutClusterTime(reply) {
  const { $clusterTime, operationTime, ...rest } = reply;
  return rest;
}

module.exports = { useDatabase, withoutClusterTime };
