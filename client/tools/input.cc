#include "input.h"

namespace micromongo::tools {

bool ChunkedInput::Refill() {
  consumed_before_ += static_cast<int64_t>(pos_);
  buf_.resize(1 << 20);
  size_t n = std::fread(buf_.data(), 1, buf_.size(), in_);
  buf_.resize(n);
  pos_ = 0;
  return n > 0;
}

void JsonDocumentReader::SkipSeparators() {
  for (int c = in_.Peek(); c >= 0; c = in_.Peek()) {
    if (c == '\n') {
      ++line_;
    } else if (c == ',' && array_ && started_) {
      // between elements
    } else if (c != ' ' && c != '\t' && c != '\r' && !(c == 0xEF || c == 0xBB || c == 0xBF)) {
      return;  // (the UTF-8 byte order mark's bytes are skipped too)
    }
    in_.Get();
  }
}

void JsonDocumentReader::SkipRestOfLine() {
  for (int c = in_.Get(); c >= 0 && c != '\n'; c = in_.Get()) {
  }
  ++line_;
}

bool JsonDocumentReader::Next(std::string* text, int64_t* line) {
  text->clear();
  SkipSeparators();
  if (array_ && !started_) {
    if (in_.Peek() < 0) return false;
    if (in_.Peek() != '[') {
      int64_t at = line_;
      SkipRestOfLine();
      throw InputError(at, "expected a JSON array ('[') with --jsonArray");
    }
    in_.Get();
    started_ = true;
    SkipSeparators();
  }
  int c = in_.Peek();
  if (c < 0) {
    if (array_ && !ended_) {
      ended_ = true;  // reported once
      throw InputError(line_, "the JSON array is not closed with ']'");
    }
    return false;
  }
  if (array_ && ended_) {
    if (c < 0) return false;
    int64_t at = line_;
    SkipRestOfLine();
    throw InputError(at, "text after the JSON array's closing ']'");
  }
  if (array_ && c == ']') {
    in_.Get();
    ended_ = true;
    return Next(text, line);
  }
  *line = line_;
  if (c != '{') {
    int64_t at = line_;
    SkipRestOfLine();
    throw InputError(at, "expected a document ('{')");
  }
  // Copy up to the matching '}', minding strings and their escapes, a buffer at a time.
  int depth = 0;
  bool in_string = false;
  bool escape = false;
  for (std::string_view buf = in_.Buffered(); !buf.empty(); buf = in_.Buffered()) {
    size_t i = 0;
    bool done = false;
    for (; i < buf.size() && !done; ++i) {
      char ch = buf[i];
      if (ch == '\n') ++line_;
      if (in_string) {
        if (escape) escape = false;
        else if (ch == '\\') escape = true;
        else if (ch == '"') in_string = false;
        continue;
      }
      if (ch == '"') {
        in_string = true;
      } else if (ch == '{' || ch == '[') {
        ++depth;
      } else if (ch == '}' || ch == ']') {
        done = --depth == 0;
      }
    }
    text->append(buf.data(), i);
    in_.Skip(i);
    if (done) return true;
  }
  throw InputError(*line, "the document that starts here is not closed");
}

bool CsvReader::Next(std::vector<std::string>* fields, int64_t* line) {
  fields->clear();
  int c = in_.Peek();
  if (c < 0) return false;
  *line = line_;
  const char delimiter = tsv_ ? '\t' : ',';
  std::string field;
  bool quoted = false;        // inside a quoted field
  bool was_quoted = false;    // the current field was quoted (only a delimiter may follow)
  while (true) {
    c = in_.Get();
    if (quoted) {
      if (c < 0) throw InputError(*line, "a quoted field is not closed");
      if (c == '"') {
        if (in_.Peek() == '"') {
          in_.Get();
          field.push_back('"');
        } else {
          quoted = false;
          was_quoted = true;
        }
      } else {
        if (c == '\n') ++line_;
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c < 0 || c == '\n') {
      if (c == '\n') ++line_;
      if (!field.empty() && field.back() == '\r' && !was_quoted) field.pop_back();
      fields->push_back(std::move(field));
      return true;
    }
    if (c == delimiter) {
      fields->push_back(std::move(field));
      field.clear();
      was_quoted = false;
      continue;
    }
    if (was_quoted) {
      if (c == '\r') continue;
      throw InputError(line_, "text after a quoted field's closing quote");
    }
    if (c == '"' && !tsv_ && field.empty()) {
      quoted = true;
      continue;
    }
    field.push_back(static_cast<char>(c));
  }
}

}  // namespace micromongo::tools
