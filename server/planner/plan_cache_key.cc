#include "planner/plan_cache_key.h"

#include "document/bson_view.h"
#include "planner/query_solution.h"

namespace micromongo::planner {
namespace {

using query::MatchKind;

void AppendOperand(const bson::ValueView& v, std::string* out) {
  out->push_back(static_cast<char>('A' + static_cast<int>(v.type) % 26));
  // Arrays and documents bound differently when empty (undefined) or not.
  if (v.type == BsonType::kArray || v.type == BsonType::kDocument) out->push_back(v.Doc().empty() ? '0' : '1');
}

void Shape(const query::MatchExpression* e, std::string* out) {
  out->push_back('(');
  out->append(std::to_string(static_cast<int>(e->kind())));
  switch (e->kind()) {
    case MatchKind::kAnd:
    case MatchKind::kOr:
    case MatchKind::kNot:
    case MatchKind::kExpr:
    case MatchKind::kJsonSchema:
    case MatchKind::kText:
      break;
    default:
      out->push_back(' ');
      out->append(static_cast<const query::PathMatchExpression*>(e)->path().dotted());
  }
  switch (e->kind()) {
    case MatchKind::kComparison: {
      const auto& c = static_cast<const query::ComparisonMatch&>(*e);
      out->append(std::to_string(static_cast<int>(c.op())));
      AppendOperand(c.operand(), out);
      break;
    }
    case MatchKind::kIn: {
      const auto& in = static_cast<const query::InMatch&>(*e);
      // The number of points matters to the plan (a merge of $in points for a sort).
      out->append(std::to_string(in.operands().size())).push_back('/');
      out->append(std::to_string(in.regexes().size()));
      for (const auto& v : in.operands()) AppendOperand(v, out);
      break;
    }
    case MatchKind::kRegex: {
      const auto& r = static_cast<const query::RegexMatch&>(*e);
      // Prefix or not decides the bounds.
      out->push_back(!r.pattern().empty() && r.pattern()[0] == '^' ? 'p' : 'n');
      if (r.pattern().find('|') != std::string::npos) out->push_back('|');
      out->append(r.options());
      break;
    }
    case MatchKind::kElemMatch: {
      const auto& em = static_cast<const query::ElemMatch&>(*e);
      out->push_back(em.value_form() ? 'v' : 'o');
      Shape(&em.inner(), out);
      break;
    }
    case MatchKind::kType: {
      const auto& t = static_cast<const query::TypeMatch&>(*e);
      for (BsonType b : t.types()) out->append(std::to_string(static_cast<int>(b))).push_back(',');
      if (t.number()) out->push_back('n');
      break;
    }
    default:
      break;
  }
  for (size_t i = 0; i < e->num_children(); ++i) Shape(e->child(i), out);
  out->push_back(')');
}

void Signature(const PlanNode& n, std::string* out) {
  out->append(StageName(n.kind));
  if (ScansIndex(n.kind)) {
    out->append(" ").append(n.index->name).append(n.direction < 0 ? " -1" : " 1");
    // A wildcard index's entries differ by path.
    if (!n.index->wildcard_path.empty()) out->append(" $_path ").append(n.index->wildcard_path);
    if (n.filter_keys) out->append(" keys");
  }
  if (n.kind == NodeKind::kCollScan && n.direction < 0) out->append(" -1");
  out->push_back('(');
  for (const auto& c : n.children) {
    Signature(*c, out);
    out->push_back(',');
  }
  out->push_back(')');
}

}  // namespace

std::string QueryShape(const query::MatchExpression* filter, const std::string& sort_bson,
                       const std::vector<std::string>* projection_fields, bool projection_includes_id) {
  std::string out;
  if (filter != nullptr) Shape(filter, &out);
  out.append("|s");
  out.append(sort_bson);
  out.append("|p");
  if (projection_fields != nullptr) {
    for (const std::string& f : *projection_fields) out.append(f).push_back(',');
    out.push_back(projection_includes_id ? 'i' : 'x');
  }
  return out;
}

std::string SolutionSignature(const QuerySolution& s) {
  std::string out;
  Signature(*s.root, &out);
  return out;
}

}  // namespace micromongo::planner
