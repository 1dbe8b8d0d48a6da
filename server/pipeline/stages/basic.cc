// $match, $skip, $limit, $count, $sample.

#include <random>

#include "document/builder.h"
#include "document/key_string.h"
#include "pipeline/sorter.h"
#include "pipeline/stages/registry.h"
#include "query/matcher.h"

namespace micromongo::pipeline::stages {
namespace {

// ---- $match ---------------------------------------------------------------------------------

class MatchSpec final : public StageSpec {
 public:
  MatchSpec(std::string filter, const ParseOptions& options, std::shared_ptr<const query::Matcher> parsed)
      : filter_(std::move(filter)), collator_(options.collator), parsed_(std::move(parsed)),
        reparse_(!options.scope.empty()) {}

  bool IsMatch() const override { return true; }
  bool HasText() const override { return parsed_->contains_text(); }

  absl::StatusOr<std::shared_ptr<const query::Matcher>> ReadFilter(ExecContext* ctx) const override {
    // The filter parsed with the command's variables serves every execution, unless it may
    // read variables that differ per execution (a $lookup sub-pipeline's let).
    if (!reparse_) return parsed_;
    auto m = ctx->let != nullptr ? query::Matcher::Parse(filter_, *ctx->let, collator_)
                                 : query::Matcher::Parse(filter_, nullptr, collator_);
    if (!m.ok()) return m.status();
    return std::shared_ptr<const query::Matcher>(*std::move(m));
  }

  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    auto m = ReadFilter(ctx);
    if (!m.ok()) return m.status();
    std::shared_ptr<const query::Matcher> matcher = *std::move(m);
    if (matcher->MatchesAll()) return input;
    return MakeMapStage(std::move(input), [matcher](Row* row) { return matcher->Evaluate(row->view()); });
  }

 private:
  std::string filter_;
  std::shared_ptr<const bson::Collator> collator_;
  std::shared_ptr<const query::Matcher> parsed_;
  bool reparse_;
};

// ---- $skip and $limit -----------------------------------------------------------------------

class SkipSpec final : public StageSpec {
 public:
  explicit SkipSpec(int64_t n) : n_(n) {}
  int64_t n() const { return n_; }
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext*) const override {
    if (n_ == 0) return input;
    return MakeMapStage(std::move(input), [left = n_](Row*) mutable -> absl::StatusOr<bool> {
      if (left > 0) {
        --left;
        return false;
      }
      return true;
    });
  }

 private:
  int64_t n_;
};

class LimitStage final : public Stage {
 public:
  LimitStage(StagePtr input, int64_t n) : input_(std::move(input)), left_(n) {}
  absl::StatusOr<bool> Next(Row* out) override {
    if (left_ <= 0) {
      input_.reset();  // releases what the input holds (iterators, sort buffers) early
      return false;
    }
    auto more = input_->Next(out);
    if (more.ok() && *more) --left_;
    return more;
  }

 private:
  StagePtr input_;
  int64_t left_;
};

class LimitSpec final : public StageSpec {
 public:
  explicit LimitSpec(int64_t n) : n_(n) {}
  int64_t n() const { return n_; }
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext*) const override {
    return StagePtr(std::make_unique<LimitStage>(std::move(input), n_));
  }

 private:
  int64_t n_;
};

// MongoDB's parseIntegerElementToNonNegativeLong: a number with an exact int64 value >= 0.
absl::StatusOr<int64_t> NonNegativeInteger(const Value& v) {
  if (!v.IsNumber()) return MongoError(kBadValue, StrCat("Expected a number in: ", v.ToJson()));
  double d = v.ToDouble();
  if (v.type() == BsonType::kInt64) {
    if (v.AsInt64() < 0) return MongoError(kBadValue, StrCat("Expected a non-negative number in: ", v.ToJson()));
    return v.AsInt64();
  }
  if (!(d >= -9.3e18 && d <= 9.3e18) || d != static_cast<double>(static_cast<int64_t>(d))) {
    return MongoError(kBadValue, StrCat("Expected an integer: ", v.ToJson()));
  }
  if (d < 0) return MongoError(kBadValue, StrCat("Expected a non-negative number in: ", v.ToJson()));
  return static_cast<int64_t>(d);
}

// ---- $count ---------------------------------------------------------------------------------

class CountStage final : public Stage {
 public:
  CountStage(StagePtr input, std::string field) : input_(std::move(input)), field_(std::move(field)) {}
  absl::StatusOr<bool> Next(Row* out) override {
    if (done_) return false;
    done_ = true;
    int64_t n = 0;
    Row row;
    while (true) {
      auto more = input_->Next(&row);
      if (!more.ok()) return more.status();
      if (!*more) break;
      ++n;
    }
    input_.reset();
    if (n == 0) return false;  // $count emits nothing for no input, like its $group
    bson::Builder b;
    if (n <= INT32_MAX) {
      b.AppendInt32(field_, static_cast<int32_t>(n));
    } else {
      b.AppendInt64(field_, n);
    }
    out->doc = std::move(b).Finish();
    out->meta.reset();
    return true;
  }

 private:
  StagePtr input_;
  std::string field_;
  bool done_ = false;
};

class CountSpec final : public StageSpec {
 public:
  explicit CountSpec(std::string field) : field_(std::move(field)) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext*) const override {
    return StagePtr(std::make_unique<CountStage>(std::move(input), field_));
  }

 private:
  std::string field_;
};

// ---- $sample --------------------------------------------------------------------------------

// `size` random documents without repeats: every input gets a random key and the sorter
// keeps the smallest `size` (all of them, shuffled, when there are fewer).
class SampleStage final : public Stage {
 public:
  SampleStage(StagePtr input, int64_t size, ExecContext* ctx)
      : input_(std::move(input)), sorter_(ctx, "$sample", size), size_(size) {}
  absl::StatusOr<bool> Next(Row* out) override {
    if (size_ == 0) return false;
    if (!loaded_) {
      loaded_ = true;
      std::mt19937_64 rng(std::random_device{}());
      Row row;
      while (true) {
        auto more = input_->Next(&row);
        if (!more.ok()) return more.status();
        if (!*more) break;
        std::string key;
        bson::AppendBigEndian64(rng(), &key);
        if (auto s = sorter_.Add(std::move(key), std::move(row.doc)); !s.ok()) return s;
      }
      input_.reset();
      if (auto s = sorter_.Finish(); !s.ok()) return s;
    }
    std::string key;
    out->meta.reset();
    return sorter_.Next(&key, &out->doc);
  }

 private:
  StagePtr input_;
  Sorter sorter_;
  int64_t size_;
  bool loaded_ = false;
};

class SampleSpec final : public StageSpec {
 public:
  explicit SampleSpec(int64_t size) : size_(size) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return StagePtr(std::make_unique<SampleStage>(std::move(input), size_, ctx));
  }

 private:
  int64_t size_;
};

}  // namespace

StagePtr MakeFilterStage(StagePtr input, std::shared_ptr<const query::Matcher> filter) {
  return MakeMapStage(std::move(input), [filter](Row* row) { return filter->Evaluate(row->view()); });
}

absl::Status ParseMatch(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(15959, "the match filter must be an expression in an object");
  }
  std::string filter = bson::Encode(arg.AsDocument());
  // Parsed now for its errors (and kept when its variables cannot change between runs).
  VariableMap names;
  if (options.let != nullptr) names = *options.let;
  for (const std::string& v : options.scope) names.emplace(v, Value());
  auto m = options.let == nullptr && options.scope.empty()
               ? query::Matcher::Parse(filter, nullptr, options.collator)
               : query::Matcher::Parse(filter, names, options.collator);
  if (!m.ok()) return m.status();
  if ((*m)->near() != nullptr) {
    return MongoError(5626500, "$geoNear, $near, and $nearSphere are not allowed in this context, as these operators "
                               "require sorting geospatial data. If you do not need sort, consider using $geoWithin "
                               "instead.");
  }
  Emit(out, "$match", arg,
       std::make_shared<MatchSpec>(filter, options, std::shared_ptr<const query::Matcher>(*std::move(m))));
  return absl::OkStatus();
}

absl::Status ParseSkip(const Value& arg, const ParseOptions&, Specs* out) {
  auto n = NonNegativeInteger(arg);
  if (!n.ok()) {
    return MongoError(5107200, StrCat("invalid argument to $skip stage: ", n.status().message()));
  }
  Emit(out, "$skip", arg, std::make_shared<SkipSpec>(*n));
  return absl::OkStatus();
}

absl::Status ParseLimit(const Value& arg, const ParseOptions&, Specs* out) {
  auto n = NonNegativeInteger(arg);
  if (!n.ok()) {
    return MongoError(5107201, StrCat("invalid argument to $limit stage: ", n.status().message()));
  }
  if (*n == 0) return MongoError(15958, "the limit must be positive");
  Emit(out, "$limit", arg, std::make_shared<LimitSpec>(*n));
  return absl::OkStatus();
}

std::optional<int64_t> LimitOf(const StageSpec& spec) {
  if (auto* l = dynamic_cast<const LimitSpec*>(&spec)) return l->n();
  return std::nullopt;
}

std::optional<int64_t> SkipOf(const StageSpec& spec) {
  if (auto* s = dynamic_cast<const SkipSpec*>(&spec)) return s->n();
  return std::nullopt;
}

absl::Status ParseCount(const Value& arg, const ParseOptions&, Specs* out) {
  if (arg.type() != BsonType::kString) return MongoError(40156, "the count field must be a non-empty string");
  const std::string& f = arg.AsString();
  if (f.empty()) return MongoError(40157, "the count field must be a non-empty string");
  if (f[0] == '$') return MongoError(40158, "the count field cannot be a $-prefixed path");
  if (f.find('\0') != std::string::npos) return MongoError(40159, "the count field cannot contain a null byte");
  if (f.find('.') != std::string::npos) return MongoError(40160, "the count field cannot contain '.'");
  Emit(out, "$count", arg, std::make_shared<CountSpec>(f));
  return absl::OkStatus();
}

absl::Status ParseSample(const Value& arg, const ParseOptions&, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(28745, "the $sample stage specification must be an object");
  }
  std::optional<int64_t> size;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k != "size") return MongoError(28748, StrCat("unrecognized option to $sample: ", k));
    if (!v.IsNumber()) return MongoError(28746, "size argument to $sample must be a number");
    double d = v.ToDouble();
    if (d < 0) return MongoError(28747, "size argument to $sample must not be negative");
    size = v.type() == BsonType::kInt64 ? v.AsInt64() : static_cast<int64_t>(std::min(d, 9.2e18));
  }
  if (!size) return MongoError(28749, "$sample stage must specify a size");
  Emit(out, "$sample", arg, std::make_shared<SampleSpec>(*size));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
