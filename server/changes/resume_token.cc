#include "changes/resume_token.h"

#include <cstdio>

#include "document/builder.h"
#include "document/status.h"

namespace micromongo::changes {

std::string ResumeToken::ToBson() const {
  char hex[19];
  std::snprintf(hex, sizeof hex, "%016llX%02X", static_cast<unsigned long long>(time),
                static_cast<unsigned>(kind));
  bson::Builder b;
  b.AppendString("_data", std::string_view(hex, 18));
  return std::move(b).Finish();
}

absl::StatusOr<ResumeToken> ResumeToken::Parse(bson::DocView token) {
  bson::ValueView data;
  auto bad = [] { return MongoError(kFailedToParse, "Bad resume token: _data is not a resume token of this server"); };
  if (!token.Find("_data", &data) || data.type != BsonType::kString) {
    return MongoError(kFailedToParse, "Bad resume token: _data of missing or of wrong type");
  }
  std::string_view s = data.String();
  if (s.size() != 18) return bad();
  uint64_t time = 0;
  unsigned kind = 0;
  for (size_t i = 0; i < 18; ++i) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return bad();
    if (i < 16) time = time << 4 | d;
    else kind = kind << 4 | d;
  }
  if (kind > 2) return bad();
  return ResumeToken{time, static_cast<Kind>(kind)};
}

}  // namespace micromongo::changes
