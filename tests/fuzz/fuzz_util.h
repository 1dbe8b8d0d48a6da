#pragma once

// Shared by the libFuzzer targets: splitting fuzz bytes into BSON documents, the varied
// documents every evaluator is run against, and a temporary database for targets that run
// whole operations in-process.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "document/bson_view.h"
#include "storage/engine.h"

namespace micromongo::fuzz {

// Takes the next BSON document off the front of `data` (its length prefix says how long
// it is), validated; false when none is left or the bytes are not a valid document.
bool NextDocument(std::string_view* data, std::string* doc);

// Documents shaped where bugs hide: nested arrays at every depth, null vs missing, mixed
// numeric types, decimals, strings, dotted-path lookalikes, empty containers.
const std::vector<std::string>& SampleDocuments();

// A worker's engine on a temporary directory (removed at exit), with database "fuzz"
// holding collection "c" (the sample documents, indexes on a, {a, b} and a.b) and "d".
storage::Engine* SharedEngine();

// Every database an input creates is a store of its own, open (a few MiB) until the
// engine closes: ten million inputs made some 1,600 and crossed libFuzzer's RSS limit.
// A long-running target asks once per input whether the engine holds more than 16 open
// databases; if so it releases everything that uses the engine (services, cursors) and
// calls RenewSharedEngine, which starts over on an empty directory with the seed data.
bool SharedEngineOutgrown();
void RenewSharedEngine();

// The target's `Services` (what uses the shared engine), made on first use and renewed
// with the engine when it outgrows.
template <typename Services>
Services* ServicesOverSharedEngine() {
  static Services* services = nullptr;
  if (SharedEngineOutgrown()) {
    delete services;
    services = nullptr;
    RenewSharedEngine();
  }
  if (services == nullptr) services = new Services;
  return services;
}

// -1, 0 or 1 as `c` is negative, zero or positive.
inline int Sign(int c) { return (c > 0) - (c < 0); }

// Aborts (a fuzzer finding) with `what` when `ok` is false.
void Check(bool ok, const char* what);

}  // namespace micromongo::fuzz
