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

// Keeps the shared engine's state bounded over a long run (call once per input): every
// database an input creates is a store of its own, a few MiB of memory while open, so
// past 16 of them all but "fuzz" are dropped, as an input's DropDatabase would. Without
// this, ten million inputs held some 1,600 stores and crossed libFuzzer's RSS limit.
void BoundSharedState();

// -1, 0 or 1 as `c` is negative, zero or positive.
inline int Sign(int c) { return (c > 0) - (c < 0); }

// Aborts (a fuzzer finding) with `what` when `ok` is false.
void Check(bool ok, const char* what);

}  // namespace micromongo::fuzz
