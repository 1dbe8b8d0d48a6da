#pragma once

// Index bounds on one key field: intervals of key strings (document/key_string.h) in
// ascending value order, whatever the field's direction. An ordered interval list (OIL) is
// sorted and disjoint; it says which key values of the field a scan must visit.

#include <string>
#include <string_view>
#include <vector>

namespace micromongo::planner {

struct Interval {
  std::string lo, hi;  // key strings; "" lo means below everything, "\xff" hi above
  bool lo_inclusive = true;
  bool hi_inclusive = true;
  // How explain shows the ends (MongoDB's notation: 5, "abc", MinKey, inf.0, ...).
  std::string lo_text, hi_text;

  bool IsPoint() const { return lo_inclusive && hi_inclusive && lo == hi; }
  bool Empty() const;
  bool Contains(std::string_view key) const;
  // "[1, 5)" as explain's indexBounds shows it.
  std::string ToString() const;
};

using IntervalList = std::vector<Interval>;

// [MinKey, MaxKey]: every key.
Interval FullInterval();
Interval PointInterval(std::string key, std::string text);
bool IsFull(const IntervalList& list);
bool AllPoints(const IntervalList& list);

// Sorts and merges overlapping or touching intervals; drops empty ones.
IntervalList Normalize(IntervalList list);
// The keys in both lists (both normalized).
IntervalList Intersect(const IntervalList& a, const IntervalList& b);
// Whether `key` (one field's key string, ascending) lies in the list.
bool ListContains(const IntervalList& list, std::string_view key);

}  // namespace micromongo::planner
