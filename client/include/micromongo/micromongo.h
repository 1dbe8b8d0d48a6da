#pragma once

// micro-mongo: an embedded MongoDB-compatible document database whose engine runs in a
// worker server process. Everything an application needs:
//
//   namespace mm = micromongo;
//   auto bridge = mm::WorkerBridge::Create();
//   mm::MongoClient client("mongodb://localhost/mydb", {.worker_bridge = bridge});
//   client.Connect();
//   client.Db()["users"].InsertOne(mm::Document{{"name", "Alice"}});
//   client.Close();
//   bridge->Terminate();

#include "micromongo/bson_types.h"
#include "micromongo/client.h"
#include "micromongo/document.h"
#include "micromongo/error.h"
#include "micromongo/options.h"
#include "micromongo/results.h"
#include "micromongo/session.h"
#include "micromongo/worker_bridge.h"
