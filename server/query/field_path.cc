#include "query/field_path.h"

namespace micromongo::query {

FieldPath::FieldPath(std::string_view dotted) : dotted_(dotted) {
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string_view part = dotted.substr(start, dot == std::string_view::npos ? dotted.npos
                                                                               : dot - start);
    parts_.emplace_back(part);
    std::optional<size_t> index;
    if (!part.empty() && part.size() < 10 && (part == "0" || part[0] != '0')) {
      size_t n = 0;
      bool digits = true;
      for (char c : part) {
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      if (digits) index = n;
    }
    indexes_.push_back(index);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
}

}  // namespace micromongo::query
