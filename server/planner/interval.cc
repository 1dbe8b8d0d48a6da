#include "planner/interval.h"

#include <algorithm>

namespace micromongo::planner {
namespace {

// Compares interval starts: a lower start first; at equal keys an inclusive start first.
bool StartsBefore(const Interval& a, const Interval& b) {
  if (a.lo != b.lo) return a.lo < b.lo;
  return a.lo_inclusive && !b.lo_inclusive;
}

// Whether `b` (starting at or after a's start) overlaps or touches `a`.
bool Joins(const Interval& a, const Interval& b) {
  if (b.lo < a.hi) return true;
  if (b.lo == a.hi) return a.hi_inclusive || b.lo_inclusive;
  return false;
}

}  // namespace

bool Interval::Empty() const {
  if (lo < hi) return false;
  if (lo == hi) return !(lo_inclusive && hi_inclusive);
  return true;
}

bool Interval::Contains(std::string_view key) const {
  int c = key.compare(lo);
  if (c < 0 || (c == 0 && !lo_inclusive)) return false;
  c = key.compare(hi);
  if (c > 0 || (c == 0 && !hi_inclusive)) return false;
  return true;
}

std::string Interval::ToString() const {
  return std::string(lo_inclusive ? "[" : "(") + lo_text + ", " + hi_text + (hi_inclusive ? "]" : ")");
}

Interval FullInterval() {
  Interval i;
  i.lo = "";
  i.hi = "\xff";
  i.lo_text = "MinKey";
  i.hi_text = "MaxKey";
  return i;
}

Interval PointInterval(std::string key, std::string text) {
  Interval i;
  i.lo = key;
  i.hi = std::move(key);
  i.lo_text = text;
  i.hi_text = std::move(text);
  return i;
}

bool IsFull(const IntervalList& list) {
  return list.size() == 1 && list[0].lo.empty() && list[0].hi == "\xff";
}

bool AllPoints(const IntervalList& list) {
  for (const Interval& i : list) {
    if (!i.IsPoint()) return false;
  }
  return !list.empty();
}

IntervalList Normalize(IntervalList list) {
  list.erase(std::remove_if(list.begin(), list.end(), [](const Interval& i) { return i.Empty(); }), list.end());
  std::sort(list.begin(), list.end(), StartsBefore);
  IntervalList out;
  for (Interval& i : list) {
    if (!out.empty() && Joins(out.back(), i)) {
      Interval& last = out.back();
      if (i.hi > last.hi || (i.hi == last.hi && i.hi_inclusive)) {
        last.hi = std::move(i.hi);
        last.hi_inclusive = i.hi_inclusive;
        last.hi_text = std::move(i.hi_text);
      }
      continue;
    }
    out.push_back(std::move(i));
  }
  return out;
}

IntervalList Intersect(const IntervalList& a, const IntervalList& b) {
  IntervalList out;
  for (const Interval& x : a) {
    for (const Interval& y : b) {
      Interval r;
      if (x.lo > y.lo || (x.lo == y.lo && !x.lo_inclusive)) {
        r.lo = x.lo, r.lo_inclusive = x.lo_inclusive, r.lo_text = x.lo_text;
      } else {
        r.lo = y.lo, r.lo_inclusive = y.lo_inclusive, r.lo_text = y.lo_text;
      }
      if (x.hi < y.hi || (x.hi == y.hi && !x.hi_inclusive)) {
        r.hi = x.hi, r.hi_inclusive = x.hi_inclusive, r.hi_text = x.hi_text;
      } else {
        r.hi = y.hi, r.hi_inclusive = y.hi_inclusive, r.hi_text = y.hi_text;
      }
      if (!r.Empty()) out.push_back(std::move(r));
    }
  }
  return Normalize(std::move(out));
}

bool ListContains(const IntervalList& list, std::string_view key) {
  // Binary search on the starts, then one check.
  auto it = std::upper_bound(list.begin(), list.end(), key,
                             [](std::string_view k, const Interval& i) { return k < i.lo; });
  if (it != list.begin() && std::prev(it)->Contains(key)) return true;
  // An exclusive interval starting exactly at key does not contain it; nothing else can.
  return false;
}

}  // namespace micromongo::planner
