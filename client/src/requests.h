#pragma once

// The DataService requests of the Collection operations, built in one place so that an
// operation and its explain (explain.cc) send the same request.

#include <optional>
#include <string>
#include <vector>

#include "micromongo/client.h"
#include "micromongo/v1/micromongo.pb.h"

namespace micromongo::internal {

v1::FindRequest FindRequestOf(const std::string& db, const std::string& coll, const Document& filter,
                              const FindOptions& options);
v1::AggregateRequest AggregateRequestOf(const std::string& db, const std::string& coll,
                                        const std::vector<Document>& pipeline, const AggregateOptions& options);
v1::CountRequest CountRequestOf(const std::string& db, const std::string& coll, const Document& filter,
                                const CountOptions& options);
v1::DistinctRequest DistinctRequestOf(const std::string& db, const std::string& coll, std::string_view key,
                                      const Document& filter, const DistinctOptions& options);
// An update document or replacement (`update`), or an update pipeline.
v1::UpdateRequest UpdateRequestOf(const std::string& db, const std::string& coll, const Document& filter,
                                  const Document* update, const Pipeline* pipeline, bool multi, bool replace,
                                  const UpdateOptions& options);
v1::DeleteRequest DeleteRequestOf(const std::string& db, const std::string& coll, const Document& filter,
                                  bool multi, const DeleteOptions& options);

struct FindAndModifyArgs {
  const Document* update = nullptr;
  const Pipeline* pipeline = nullptr;
  bool replace = false, remove = false, upsert = false, return_new = false;
  const std::optional<Document>* projection = nullptr;
  const std::optional<Document>* sort = nullptr;
  const std::vector<Document>* array_filters = nullptr;
  int64_t max_time_ms = 0;
  const std::optional<Hint>* hint = nullptr;
  const std::optional<Document>* let = nullptr;
  const std::optional<Document>* collation = nullptr;
  bool bypass_document_validation = false;
  ClientSession* session = nullptr;
};
v1::FindAndModifyRequest FindAndModifyRequestOf(const std::string& db, const std::string& coll,
                                                const Document& filter, const FindAndModifyArgs& a);
FindAndModifyArgs UpdateArgs(const Document* update, const Pipeline* pipeline, const FindOneAndUpdateOptions& o);
FindAndModifyArgs DeleteArgs(const FindOneAndDeleteOptions& o);

}  // namespace micromongo::internal
