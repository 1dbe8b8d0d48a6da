// $sort: blocking, in memory up to the limit, spilling sorted runs with allowDiskUse; a
// top-k sort when a $limit follows.

#include "document/key_string.h"
#include "pipeline/sort_key.h"
#include "pipeline/sorter.h"
#include "pipeline/stages/registry.h"

namespace micromongo::pipeline::stages {
namespace {

class SortStage final : public Stage {
 public:
  SortStage(StagePtr input, const SortKeyGenerator* keys, int64_t top_k, ExecContext* ctx)
      : input_(std::move(input)), keys_(keys), ctx_(ctx), sorter_(ctx, "$sort", top_k) {}

  absl::StatusOr<bool> Next(Row* out) override {
    if (!loaded_) {
      loaded_ = true;
      uint64_t seq = 0;
      absl::Status read = ForEachRow(input_.get(), [&](Row& row) -> absl::Status {
        std::string key;
        if (auto s = keys_->AppendKey(row.view(), row.meta.get(), ctx_->collator_ptr(), &key); !s.ok()) return s;
        // Ties keep their input order.
        bson::AppendBigEndian64(seq++, &key);
        if (auto s = sorter_.Add(std::move(key), PackRow(std::move(row))); !s.ok()) return s;
        if ((seq & 1023) == 0) return ctx_->deadline.Check();
        return absl::OkStatus();
      });
      if (!read.ok()) return read;
      input_.reset();
      if (auto s = sorter_.Finish(); !s.ok()) return s;
    }
    std::string key, value;
    auto more = sorter_.Next(&key, &value);
    if (!more.ok() || !*more) return more;
    if (auto s = UnpackRow(std::move(value), out); !s.ok()) return s;
    return true;
  }

 private:
  StagePtr input_;
  const SortKeyGenerator* keys_;
  ExecContext* ctx_;
  Sorter sorter_;
  bool loaded_ = false;
};

class SortSpec final : public StageSpec {
 public:
  SortSpec(SortKeyGenerator keys, Document pattern, int64_t top_k)
      : keys_(std::move(keys)), pattern_(std::move(pattern)), top_k_(top_k) {}

  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return StagePtr(std::make_unique<SortStage>(std::move(input), &keys_, top_k_, ctx));
  }
  Document Explain() const override {
    Document d{{"sortKey", pattern_}};
    if (top_k_ > 0) d.Append("limit", top_k_);
    return Document{{"$sort", d}};
  }
  const Document& pattern() const { return pattern_; }
  std::shared_ptr<SortSpec> WithTopK(int64_t k) const {
    auto s = std::make_shared<SortSpec>(keys_, pattern_, top_k_ > 0 ? std::min(top_k_, k) : k);
    s->set_origin(name_, argument_);
    return s;
  }

 private:
  SortKeyGenerator keys_;
  Document pattern_;
  int64_t top_k_;
};

}  // namespace

absl::Status ParseSort(const Value& arg, const ParseOptions&, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(15973, "the $sort key specification must be an object");
  }
  auto pattern = SortPattern::Parse(arg.AsDocument());
  if (!pattern.ok()) return pattern.status();
  Emit(out, "$sort", arg,
       std::make_shared<SortSpec>(SortKeyGenerator(*std::move(pattern)), arg.AsDocument(), 0));
  return absl::OkStatus();
}

std::optional<Document> SortPatternOf(const StageSpec& spec) {
  if (spec.name() != "$sort") return std::nullopt;
  return static_cast<const SortSpec&>(spec).pattern();
}

SpecPtr WithTopK(const StageSpec& sort, int64_t k) {
  return static_cast<const SortSpec&>(sort).WithTopK(k);
}

}  // namespace micromongo::pipeline::stages
