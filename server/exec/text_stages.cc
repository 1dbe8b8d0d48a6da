#include "exec/text_stages.h"

#include <map>

#include "document/builder.h"
#include "text/text_index.h"

namespace micromongo::exec {
namespace {

class TextOrStage final : public PlanStage {
 public:
  TextOrStage(const planner::PlanNode& node, const ExecContext& ctx, std::vector<std::unique_ptr<PlanStage>> children)
      : ctx_(ctx) {
    children_ = std::move(children);
    const auto& fields = node.index->spec->fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].kind == index::KeyKind::kTextScore) score_field_ = i;
    }
  }

 protected:
  absl::StatusOr<State> DoWork(Member* out) override {
    if ((stats_.works & 255) == 0 && ctx_.deadline != nullptr) {
      if (auto s = ctx_.deadline->Check(); !s.ok()) return s;
    }
    // First every entry of every term, scores summed per record (a record's score needs
    // all of its terms before it can be returned).
    if (!scanned_) {
      if (current_ == children_.size()) {
        scanned_ = true;
        next_ = scores_.begin();
        return State::kNeedTime;
      }
      Member m;
      auto s = children_[current_]->Work(&m);
      if (!s.ok()) return s.status();
      if (*s == State::kEof) {
        ++current_;
      } else if (*s == State::kAdvanced) {
        size_t i = 0;
        for (const bson::ElementView& e : bson::DocView(m.key_values)) {
          if (i++ == score_field_) {
            scores_[m.record_key] += e.value.AsDouble();
            break;
          }
        }
      }
      return State::kNeedTime;
    }
    if (ready_pos_ < ready_.size()) {
      Member& m = ready_[ready_pos_++];
      if (!m.has_doc) return State::kNeedTime;
      if (ctx_.filter != nullptr && !ctx_.filter->MatchesAll()) {
        auto matched = ctx_.filter->Evaluate(bson::DocView(m.doc));
        if (!matched.ok()) return matched.status();
        if (!*matched) return State::kNeedTime;
      }
      *out = std::move(m);
      return State::kAdvanced;
    }
    if (next_ == scores_.end()) return State::kEof;
    // The next records (up to 256, as FETCH batches them: a query matching millions of
    // documents must not hold them all), read with one MultiGet.
    ready_.clear();
    ready_pos_ = 0;
    std::vector<std::string_view> keys;
    for (; next_ != scores_.end() && ready_.size() < 256; ++next_) {
      Member m;
      m.record_key = next_->first;
      m.text_score = next_->second;
      m.has_text_score = true;
      ready_.push_back(std::move(m));
    }
    for (const Member& m : ready_) keys.push_back(m.record_key);
    std::vector<std::string> docs;
    std::vector<bool> found;
    if (auto s = ctx_.db->GetRecords(keys, &docs, &found, ctx_.snapshot.get(), &scattered_); !s.ok()) return s;
    for (size_t k = 0; k < ready_.size(); ++k) {
      if (!found[k]) continue;
      ready_[k].doc = std::move(docs[k]);
      ready_[k].has_doc = true;
      ++stats_.docs_examined;
    }
    return State::kNeedTime;
  }

  void AddExplain(Document* out, bool stats) const override {
    out->Append("stage", "TEXT_OR");
    if (ctx_.filter != nullptr && !ctx_.filter->MatchesAll()) out->Append("filter", bson::Decode(ctx_.filter->filter()));
    if (stats) out->Append("docsExamined", stats_.docs_examined);
  }

 private:
  ExecContext ctx_;
  bool scattered_ = false;  // its records proved scattered: point lookups (KvStore::MultiGet)
  size_t score_field_ = 0;
  size_t current_ = 0;
  bool scanned_ = false;
  std::map<std::string, double> scores_;  // by record key: results come in _id order
  std::map<std::string, double>::const_iterator next_;
  std::vector<Member> ready_;
  size_t ready_pos_ = 0;
};

class TextMatchStage final : public PlanStage {
 public:
  TextMatchStage(const planner::PlanNode& node, std::unique_ptr<PlanStage> child) : node_(node) {
    children_.push_back(std::move(child));
  }

 protected:
  absl::StatusOr<State> DoWork(Member* out) override {
    auto s = children_[0]->Work(out);
    if (!s.ok() || *s != State::kAdvanced) return s;
    auto matched = node_.text_query->Matches(bson::DocView(out->doc), *node_.index->spec->text(), true);
    if (!matched.ok()) return matched.status();
    if (*matched) return State::kAdvanced;
    ++rejected_;
    return State::kNeedTime;
  }

  void AddExplain(Document* out, bool stats) const override {
    out->Append("stage", "TEXT_MATCH");
    out->Append("indexPrefix", bson::Decode(bson::DocView(node_.index_prefix)));
    out->Append("indexName", node_.index->name);
    out->Append("parsedTextQuery", node_.text_query->ToExplain());
    out->Append("textIndexVersion", text::kTextIndexVersion);
    if (stats) out->Append("docsRejected", rejected_);
  }

 private:
  const planner::PlanNode& node_;
  int64_t rejected_ = 0;
};

}  // namespace

std::unique_ptr<PlanStage> MakeTextOrStage(const planner::PlanNode& node, const ExecContext& ctx,
                                           std::vector<std::unique_ptr<PlanStage>> children) {
  return std::make_unique<TextOrStage>(node, ctx, std::move(children));
}

std::unique_ptr<PlanStage> MakeTextMatchStage(const planner::PlanNode& node, std::unique_ptr<PlanStage> child) {
  return std::make_unique<TextMatchStage>(node, std::move(child));
}

}  // namespace micromongo::exec
