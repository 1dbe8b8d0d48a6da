#include "storage/counters.h"

#include <algorithm>

namespace micromongo::storage {
namespace {

constexpr size_t kFieldSize = 9;

bool ValidRule(char c) { return c == '+' || c == '>'; }

int64_t ReadLittle64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<int64_t>(v);
}

void AppendField(char rule, int64_t value, std::string* out) {
  out->push_back(rule);
  uint64_t v = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::string EncodeCounters(const std::vector<Counter>& counters) {
  std::string out;
  out.reserve(counters.size() * kFieldSize);
  for (const Counter& c : counters) AppendField(static_cast<char>(c.rule), c.value, &out);
  return out;
}

bool DecodeCounters(std::string_view in, std::vector<Counter>* counters) {
  if (in.size() % kFieldSize != 0) return false;
  counters->clear();
  for (size_t at = 0; at < in.size(); at += kFieldSize) {
    if (!ValidRule(in[at])) return false;
    counters->push_back({static_cast<Counter::Rule>(in[at]), ReadLittle64(in.data() + at + 1)});
  }
  return true;
}

bool CombineCounters(std::string_view a, std::string_view b, std::string* out) {
  if (a.size() % kFieldSize != 0 || b.size() % kFieldSize != 0) return false;
  if (a.size() < b.size()) std::swap(a, b);
  out->clear();
  out->reserve(a.size());
  for (size_t at = 0; at < a.size(); at += kFieldSize) {
    char rule = a[at];
    if (!ValidRule(rule)) return false;
    int64_t x = ReadLittle64(a.data() + at + 1);
    if (at < b.size()) {
      if (b[at] != rule) return false;
      int64_t y = ReadLittle64(b.data() + at + 1);
      x = rule == '+' ? static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y)) : std::max(x, y);
    }
    AppendField(rule, x, out);
  }
  return true;
}

}  // namespace micromongo::storage
