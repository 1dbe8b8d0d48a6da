#pragma once

// A dotted path ("a.b.0.c") split once into its components.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace micromongo::query {

class FieldPath {
 public:
  FieldPath() = default;
  explicit FieldPath(std::string_view dotted);

  const std::string& dotted() const { return dotted_; }
  size_t size() const { return parts_.size(); }
  std::string_view part(size_t i) const { return parts_[i]; }
  // The component as an array index, if it is a canonical non-negative decimal number.
  std::optional<size_t> index(size_t i) const { return indexes_[i]; }

 private:
  std::string dotted_;
  std::vector<std::string> parts_;
  std::vector<std::optional<size_t>> indexes_;
};

}  // namespace micromongo::query
