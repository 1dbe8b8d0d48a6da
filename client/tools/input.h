#pragma once

// Readers of import input: JSON documents (one after another, as JSON lines or
// pretty-printed, or the elements of one JSON array) and CSV/TSV records, each with the
// line it starts on. Input comes in 1 MiB chunks; nothing is read whole into memory.

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace micromongo::tools {

// Malformed input at a line (1-based).
class InputError : public std::runtime_error {
 public:
  InputError(int64_t line, const std::string& message)
      : std::runtime_error(message), line_(line) {}
  int64_t line() const { return line_; }

 private:
  int64_t line_;
};

// A FILE read in chunks, with the count of bytes consumed.
class ChunkedInput {
 public:
  explicit ChunkedInput(std::FILE* in) : in_(in) {}
  // The next byte without consuming it; -1 at the end.
  int Peek() {
    if (pos_ == buf_.size() && !Refill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  int Get() {
    int c = Peek();
    if (c >= 0) ++pos_;
    return c;
  }
  int64_t consumed() const { return consumed_before_ + static_cast<int64_t>(pos_); }
  // The buffered bytes not consumed yet (empty at the end), and consuming `n` of them:
  // for scanning runs of bytes without a call per byte.
  std::string_view Buffered() {
    if (pos_ == buf_.size() && !Refill()) return {};
    return std::string_view(buf_).substr(pos_);
  }
  void Skip(size_t n) { pos_ += n; }

 private:
  bool Refill();
  std::FILE* in_;
  std::string buf_;
  size_t pos_ = 0;
  int64_t consumed_before_ = 0;
};

class JsonDocumentReader {
 public:
  // `array`: the input is one JSON array of documents (mongoimport --jsonArray).
  JsonDocumentReader(std::FILE* in, bool array) : in_(in), array_(array) {}
  // The next document's text and first line; false at the end. Throws InputError when the
  // text between documents is not a document (the reader then stands past the bad line).
  bool Next(std::string* text, int64_t* line);
  int64_t bytes_read() const { return in_.consumed(); }

 private:
  void SkipSeparators();
  void SkipRestOfLine();
  ChunkedInput in_;
  bool array_;
  bool started_ = false;  // the array's '[' was read
  bool ended_ = false;    // the array's ']' was read
  int64_t line_ = 1;
};

class CsvReader {
 public:
  // `tsv`: tab-separated, no quoting (as mongoimport's TSV); else RFC 4180 CSV whose
  // quoted fields may hold delimiters, doubled quotes and line breaks.
  CsvReader(std::FILE* in, bool tsv) : in_(in), tsv_(tsv) {}
  // The next record's fields; false at the end. Throws InputError for an unterminated
  // quoted field or a stray quote.
  bool Next(std::vector<std::string>* fields, int64_t* line);
  int64_t bytes_read() const { return in_.consumed(); }

 private:
  ChunkedInput in_;
  bool tsv_;
  int64_t line_ = 1;
};

}  // namespace micromongo::tools
