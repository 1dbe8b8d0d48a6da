#include "update/update.h"

#include "pipeline/pipeline.h"

#include "document/builder.h"
#include "document/value_ops.h"
#include "document/compare.h"
#include "document/status.h"
#include "update/tree_path.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace micromongo::update {
namespace {

ModifierFactory FindFactory(std::string_view op) {
  static const std::pair<std::string_view, ModifierFactory> kOperators[] = {
      {"$set", MakeSet},           {"$unset", MakeUnset},     {"$inc", MakeInc},
      {"$mul", MakeMul},           {"$min", MakeMin},         {"$max", MakeMax},
      {"$rename", MakeRename},     {"$currentDate", MakeCurrentDate},
      {"$setOnInsert", MakeSetOnInsert}, {"$push", MakePush}, {"$addToSet", MakeAddToSet},
      {"$pop", MakePop},           {"$pull", MakePull},       {"$pullAll", MakePullAll},
      {"$bit", MakeBit}};
  for (const auto& [name, factory] : kOperators) {
    if (op == name) return factory;
  }
  return nullptr;
}

bool IsPositional(std::string_view part) { return part == "$" || part.starts_with("$["); }

// "$[name]" -> "name" ("" for "$[]" and for anything that is not "$[...]").
std::string_view Identifier(std::string_view part) {
  if (part.size() < 3 || !part.starts_with("$[")) return {};
  return part.substr(2, part.size() - 3);
}

// True if one path is a prefix of (or equal to) the other, component-wise.
bool Conflicts(const query::FieldPath& a, const query::FieldPath& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.part(i) != b.part(i)) return false;
  }
  return true;
}

// MongoDB 5.0+ applies an update's operators to fields in the order of their paths, not of
// the update document: component by component, lexicographically, except that two numeric
// components of different lengths compare by length ("a.2" before "a.10"). New fields are
// therefore appended in that order ({$set: {dogs: 1, cats: 2}} adds cats first).
bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool PathBefore(const query::FieldPath& a, const query::FieldPath& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    std::string_view x = a.part(i), y = b.part(i);
    if (x == y) continue;
    if (x.size() != y.size() && AllDigits(x) && AllDigits(y)) return x.size() < y.size();
    return x < y;
  }
  return a.size() < b.size();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Update>> Update::Parse(
    bson::DocView update, bool replace, std::optional<bson::DocView> array_filters,
    std::shared_ptr<const bson::Collator> collator) {
  auto u = std::make_unique<Update>();
  if (array_filters) {
    for (const bson::ElementView& f : *array_filters) {
      if (f.value.type != BsonType::kDocument || f.value.Doc().empty()) {
        return MongoError(kFailedToParse, "Each array filter must be a non-empty object");
      }
      std::string id;
      for (const bson::ElementView& e : f.value.Doc()) {
        std::string_view top = e.key.substr(0, e.key.find('.'));
        if (top.empty() || !(top[0] >= 'a' && top[0] <= 'z')) {
          return MongoError(kBadValue, StrCat("The top-level field name must be an alphanumeric "
                                              "string beginning with a lowercase letter, found '",
                                              top, "'"));
        }
        if (!id.empty() && id != top) {
          return MongoError(kFailedToParse, StrCat("Error parsing array filter: Expected a single "
                                                   "top-level field name, found '", id, "' and '",
                                                   top, "'"));
        }
        id = std::string(top);
      }
      if (u->array_filters_.count(id)) {
        return MongoError(kFailedToParse, StrCat("Found multiple array filters with the same "
                                                 "top-level field name ", id));
      }
      auto m = query::Matcher::Parse(std::string(f.value.Doc().bytes()), nullptr, collator);
      if (!m.ok()) return m.status();
      u->array_filters_.emplace(id, *std::move(m));
    }
  }
  bool has_operators = false, has_fields = false;
  for (const bson::ElementView& e : update) {
    (!e.key.empty() && e.key[0] == '$' ? has_operators : has_fields) = true;
  }
  if (replace) {
    if (has_operators) {
      return MongoError(kBadValue, "replacement document must not contain update operators");
    }
    u->replacement_ = bson::Decode(update);
    return u;
  }
  if (!has_operators) {
    return MongoError(kFailedToParse, "Update document requires atomic operators");
  }
  for (const bson::ElementView& e : update) {
    if (e.key.empty() || e.key[0] != '$') {
      return MongoError(kFailedToParse,
                        StrCat("Unknown modifier: ", e.key,
                               ". Expected a valid update modifier or pipeline-style update"));
    }
    ModifierFactory factory = FindFactory(e.key);
    if (factory == nullptr) return MongoError(kFailedToParse, StrCat("Unknown modifier: ", e.key));
    if (e.value.type != BsonType::kDocument) {
      return MongoError(kFailedToParse,
                        StrCat("Modifiers operate on fields but we found type ",
                               BsonTypeName(e.value.type), " instead. For example: {$mod: "
                               "{<field>: ...}} not {", e.key, ": ...}"));
    }
    for (const bson::ElementView& f : e.value.Doc()) {
      query::FieldPath path(f.key);
      bool positional = false;
      for (size_t i = 0; i < path.size(); ++i) {
        std::string_view part = path.part(i);
        if (part.empty()) {
          return MongoError(kEmptyFieldName,
                            StrCat("The update path '", f.key, "' contains an empty field name, "
                                   "which is not allowed."));
        }
        if (IsPositional(part)) {
          if (part != "$" && (part.back() != ']' || part.size() < 3)) {
            return MongoError(kBadValue, StrCat("invalid positional path component '", part, "'"));
          }
          if (part.size() > 3 && part != "$" &&
              !u->array_filters_.count(std::string(Identifier(part)))) {
            return MongoError(kBadValue, StrCat("No array filter found for identifier '",
                                                Identifier(part), "' in path '", f.key, "'"));
          }
          if (i == 0) {
            return MongoError(kBadValue, StrCat("Cannot have array filter identifier (i.e. '$[<id>]') "
                                                "element in the first position in path '", f.key, "'"));
          }
          positional = true;
        } else if (part[0] == '$' && i == 0) {
          return MongoError(kDollarPrefixedFieldName,
                            StrCat("The dollar ($) prefixed field '", part, "' in '", f.key,
                                   "' is not allowed in the context of an update's replacement "
                                   "document."));
        }
      }
      auto modifier = factory(f.key, f.value);
      if (!modifier.ok()) return modifier.status();
      std::vector<const query::FieldPath*> mine = {&path};
      if (const query::FieldPath* to = (*modifier)->destination()) mine.push_back(to);
      for (const Op& other : u->ops_) {
        std::vector<const query::FieldPath*> theirs = {&other.path};
        if (const query::FieldPath* to = other.modifier->destination()) theirs.push_back(to);
        for (const auto* a : mine) {
          for (const auto* b : theirs) {
            if (Conflicts(*a, *b)) {
              return MongoError(kConflictingUpdateOperators,
                                StrCat("Updating the path '", a->dotted(),
                                       "' would create a conflict at '", b->dotted(), "'"));
            }
          }
        }
      }
      if (mine.size() == 2 && Conflicts(*mine[0], *mine[1])) {
        return MongoError(kBadValue, StrCat("The source and target field for $rename must not be "
                                            "on the same path: ", f.key));
      }
      Op op{std::move(path), *std::move(modifier), positional, e.key == "$push" || e.key == "$addToSet"};
      if (!positional && op.path.size() == 1 && f.key != "_id") {
        if (e.key == "$set") op.flat = Op::Flat::kSet;
        if (e.key == "$unset") op.flat = Op::Flat::kUnset;
        if (e.key == "$inc") op.flat = Op::Flat::kInc;
        if (op.flat != Op::Flat::kNone) op.operand = bson::ToValue(f.value);
      }
      u->ops_.push_back(std::move(op));
    }
  }
  // A $rename acts at its destination (that is where it may add a field).
  auto applied_at = [](const Op& op) -> const query::FieldPath& {
    const query::FieldPath* to = op.modifier->destination();
    return to != nullptr ? *to : op.path;
  };
  std::stable_sort(u->ops_.begin(), u->ops_.end(), [&](const Op& a, const Op& b) {
    return PathBefore(applied_at(a), applied_at(b));
  });
  u->all_flat_ = !u->ops_.empty();
  for (const Op& op : u->ops_) u->all_flat_ = u->all_flat_ && op.flat != Op::Flat::kNone;
  for (const auto& [id, filter] : u->array_filters_) {
    bool used = false;
    for (const Op& op : u->ops_) {
      for (size_t i = 0; i < op.path.size() && !used; ++i) {
        used = op.path.part(i).starts_with("$[") && Identifier(op.path.part(i)) == id;
      }
    }
    if (!used) {
      return MongoError(kFailedToParse,
                        StrCat("The array filter for identifier '", id, "' was not used in the update"));
    }
  }
  return u;
}

absl::StatusOr<std::unique_ptr<Update>> Update::ParsePipeline(
    const std::vector<Document>& stages, const std::map<std::string, Value, std::less<>>* let,
    std::shared_ptr<const bson::Collator> collator) {
  pipeline::ParseOptions options;
  options.let = let;
  options.collator = std::move(collator);
  options.kind = pipeline::PipelineKind::kUpdate;
  auto p = pipeline::Pipeline::Parse(stages, options);
  if (!p.ok()) return p.status();
  auto u = std::make_unique<Update>();
  u->pipeline_ = std::make_shared<const pipeline::Pipeline>(*std::move(p));
  return u;
}

absl::Status Update::ExpandPositional(const Document& doc, const query::FieldPath& path,
                                      const query::Matcher* filter,
                                      std::vector<query::FieldPath>* out) const {
  // Walks `path` from the root, fanning out at $[] / $[id] and resolving $.
  std::function<absl::Status(const Value*, size_t, std::string)> walk =
      [&](const Value* cur, size_t i, std::string prefix) -> absl::Status {
    auto join = [&](std::string_view part) {
      return prefix.empty() ? std::string(part) : StrCat(prefix, ".", part);
    };
    if (i == path.size()) {
      out->emplace_back(prefix);
      return absl::OkStatus();
    }
    std::string_view part = path.part(i);
    if (!IsPositional(part)) {
      const Value* next = nullptr;
      if (cur == nullptr) {
        next = doc.Find(part);
      } else if (cur->type() == BsonType::kDocument) {
        next = cur->AsDocument().Find(part);
      } else if (cur->type() == BsonType::kArray && path.index(i) &&
                 *path.index(i) < cur->AsArray().size()) {
        next = &cur->AsArray()[*path.index(i)];
      }
      if (next == nullptr) {
        // The rest is created as plain fields; nothing positional may follow.
        for (size_t j = i + 1; j < path.size(); ++j) {
          if (IsPositional(path.part(j))) {
            return MongoError(kBadValue, StrCat("The path '", join(part), "' must exist in the "
                                                "document in order to apply array updates."));
          }
        }
        std::string rest = join(part);
        for (size_t j = i + 1; j < path.size(); ++j) rest = StrCat(rest, ".", path.part(j));
        out->emplace_back(rest);
        return absl::OkStatus();
      }
      return walk(next, i + 1, join(part));
    }
    if (cur == nullptr || cur->type() != BsonType::kArray) {
      return MongoError(kBadValue, StrCat("The path '", prefix, "' must exist in the document in "
                                          "order to apply array updates."));
    }
    const Array& array = cur->AsArray();
    if (part == "$") {
      if (filter == nullptr) {
        return MongoError(kBadValue, "The positional operator did not find the match needed from "
                                     "the query.");
      }
      std::optional<size_t> found = filter->FirstMatchingIndex(doc, prefix);
      if (!found) {
        return MongoError(kBadValue, "The positional operator did not find the match needed from "
                                     "the query.");
      }
      return walk(&array[*found], i + 1, join(std::to_string(*found)));
    }
    std::string_view id = Identifier(part);
    const query::Matcher* element_filter = nullptr;
    if (!id.empty()) element_filter = array_filters_.find(id)->second.get();
    for (size_t k = 0; k < array.size(); ++k) {
      if (element_filter != nullptr) {
        bson::Builder b;
        b.AppendValue(id, array[k]);
        std::string bytes = std::move(b).Finish();
        if (!element_filter->Matches(bson::DocView(bytes))) continue;
      }
      if (auto s = walk(&array[k], i + 1, join(std::to_string(k))); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  return walk(nullptr, 0, "");
}

std::vector<Update::LoggedPath> Update::LoggedPaths() const {
  std::vector<LoggedPath> out;
  for (const Op& op : ops_) {
    if (op.positional) continue;
    out.push_back({op.path.dotted(), op.appends});
    if (const query::FieldPath* to = op.modifier->destination()) out.push_back({to->dotted(), false});
  }
  return out;
}

absl::Status Update::Apply(Document* doc, const ApplyContext& context,
                           const query::Matcher* filter) const {
  const Value* old_id = doc->Find("_id");
  std::optional<Value> id;
  if (old_id != nullptr) id = *old_id;
  if (replacement_) {
    const Value* new_id = replacement_->Find("_id");
    if (id && new_id != nullptr && !(*new_id == *id)) {
      return MongoError(kImmutableField,
                        StrCat("After applying the update, the (immutable) field '_id' was "
                               "found to have been altered to _id: ", new_id->ToJson()));
    }
    *doc = *replacement_;
    if (id && new_id == nullptr) doc->Insert(doc->begin(), {"_id", *id});
    doc->MoveToFront("_id");
    return absl::OkStatus();
  }
  if (pipeline_ != nullptr) {
    // The document is the only row of the pipeline.
    pipeline::ExecContext exec;
    exec.let = context.let;
    exec.collator = std::shared_ptr<const bson::Collator>(std::shared_ptr<void>(), context.collator);
    std::vector<std::string> one;
    one.push_back(bson::Encode(*doc));
    auto top = pipeline_->Open(pipeline::RowsSource(std::move(one)), &exec);
    if (!top.ok()) return top.status();
    pipeline::Row row;
    auto more = (*top)->Next(&row);
    if (!more.ok()) return more.status();
    if (!*more) return MongoError(kInternalError, "an update pipeline produced no document");
    *doc = bson::Decode(row.view());
    if (id && doc->Find("_id") == nullptr) doc->Insert(doc->begin(), {"_id", *id});
  }
  for (const Op& op : ops_) {
    if (!op.positional) {
      if (auto s = op.modifier->Apply(doc, op.path, context); !s.ok()) return s;
      continue;
    }
    std::vector<query::FieldPath> paths;
    if (auto s = ExpandPositional(*doc, op.path, filter, &paths); !s.ok()) return s;
    for (const query::FieldPath& p : paths) {
      if (auto s = op.modifier->Apply(doc, p, context); !s.ok()) return s;
    }
  }
  const Value* new_id = doc->Find("_id");
  if (id && (new_id == nullptr || !(*new_id == *id))) {
    return MongoError(kImmutableField,
                      "Performing an update on the path '_id' would modify the immutable field "
                      "'_id'");
  }
  return absl::OkStatus();
}

absl::Status Update::ApplyToBson(bson::DocView doc, const ApplyContext& context,
                                 const query::Matcher* filter, std::string* out) const {
  if (!all_flat_) {
    Document tree = bson::Decode(doc);
    if (auto s = Apply(&tree, context, filter); !s.ok()) return s;
    *out = bson::Encode(tree);
    return absl::OkStatus();
  }
  // Top-level $set/$unset/$inc: copy the document element by element, replacing,
  // dropping or appending the touched fields. Paths are distinct (conflicts were
  // rejected at parse time). `*out`'s capacity is reused: callers updating many
  // documents keep one buffer.
  std::vector<bool> done(ops_.size(), false);
  bson::Builder b(std::move(*out));
  b.Reserve(doc.size() + 64);
  for (const bson::ElementView& e : doc) {
    const Op* hit = nullptr;
    size_t index = 0;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].path.part(0) == e.key) {
        hit = &ops_[i];
        index = i;
        break;
      }
    }
    if (hit == nullptr) {
      b.AppendView(e.key, e.value);
      continue;
    }
    done[index] = true;
    switch (hit->flat) {
      case Op::Flat::kSet:
        b.AppendValue(e.key, hit->operand);
        break;
      case Op::Flat::kUnset:
        break;
      case Op::Flat::kInc:
        if (!e.value.IsNumber()) {
          return MongoError(kTypeMismatch,
                            StrCat("Cannot apply $inc to a value of non-numeric type. The field '",
                                   e.key, "' has non-numeric type ", BsonTypeName(e.value.type)));
        }
        if (e.value.type == BsonType::kInt32 && hit->operand.type() == BsonType::kInt32) {
          // The common int32 counter, without going through Value.
          int32_t sum;
          if (!__builtin_add_overflow(e.value.Int32(), hit->operand.AsInt32(), &sum)) {
            b.AppendInt32(e.key, sum);
            break;
          }
        }
        b.AppendValue(e.key, bson::AddNumbers(bson::ToValue(e.value), hit->operand));
        break;
      case Op::Flat::kNone:
        break;
    }
  }
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (done[i] || ops_[i].flat == Op::Flat::kUnset) continue;
    b.AppendValue(ops_[i].path.part(0), ops_[i].operand);  // $set or $inc of a new field
  }
  *out = std::move(b).Finish();
  return absl::OkStatus();
}

namespace {

// The smallest document that nests `levels` levels: an empty document (5 bytes) inside
// levels - 1 elements, each a type byte, an empty name's NUL and its own length and
// terminator around the next (7 bytes).
constexpr size_t SmallestNesting(int levels) { return 5 + 7 * static_cast<size_t>(levels - 1); }

// Fails when documents and arrays nest deeper than kMaxStorageDepth levels (the top-level
// document is the first). Iterative: a walk with one frame per open level; none for a
// document too small to nest that deep (nearly all of them).
absl::Status CheckStorageDepth(bson::DocView doc) {
  if (doc.size() < SmallestNesting(kMaxStorageDepth + 1)) return absl::OkStatus();
  struct Frame {
    bson::DocView::Iterator it, end;
  };
  std::vector<Frame> frames;
  frames.push_back({doc.begin(), doc.end()});
  while (!frames.empty()) {
    Frame& top = frames.back();
    if (top.it == top.end) {
      frames.pop_back();
      continue;
    }
    const bson::ValueView v = top.it->value;
    ++top.it;
    if (!v.IsDocumentLike()) continue;
    if (frames.size() == static_cast<size_t>(kMaxStorageDepth)) {
      return MongoError(kOverflow, StrCat("cannot insert document because it exceeds ",
                                          kMaxStorageDepth, " levels of nesting"));
    }
    bson::DocView inner = v.Doc();
    frames.push_back({inner.begin(), inner.end()});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateStorable(bson::DocView doc) {
  if (doc.size() > kMaxBsonObjectSize) {
    return MongoError(kBSONObjectTooLarge,
                      StrCat("object to insert too large. size in bytes: ", doc.size(),
                             ", max size: ", kMaxBsonObjectSize));
  }
  if (auto s = CheckStorageDepth(doc); !s.ok()) return s;
  // Since MongoDB 5.0 field names may start with '$' and contain '.', except inside _id.
  for (const bson::ElementView& e : doc) {
    if (e.key == "_id") {
      if (e.value.type == BsonType::kDocument) {
        for (const bson::ElementView& f : e.value.Doc()) {
          if (!f.key.empty() && f.key[0] == '$') {
            return MongoError(kDollarPrefixedFieldName,
                              StrCat("_id fields may not contain '$'-prefixed fields: ", f.key,
                                     " is not valid for storage."));
          }
        }
      }
      switch (e.value.type) {
        case BsonType::kArray:
          return MongoError(kBadValue, "The '_id' value cannot be of type array");
        case BsonType::kRegex:
          return MongoError(kBadValue, "The '_id' value cannot be of type regex");
        case BsonType::kUndefined:
          return MongoError(kBadValue, "The '_id' value cannot be of type undefined");
        default:
          break;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace micromongo::update
