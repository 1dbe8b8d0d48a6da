#include "pipeline/spill.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "document/status.h"

namespace micromongo::pipeline {
namespace {

constexpr size_t kWriteBuffer = 1 << 20;
constexpr size_t kReadBuffer = 256 << 10;

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

absl::Status IoError(std::string_view what) {
  return MongoError(kInternalError, StrCat("spill file ", what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpillFile>> SpillFile::Create(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return MongoError(kInternalError, StrCat("cannot create the spill directory ", dir, ": ", ec.message()));
  }
  std::string path = dir + "/spill-XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) return IoError("create");
  auto f = std::unique_ptr<SpillFile>(new SpillFile());
  f->fd_ = fd;
  f->path_ = std::move(path);
  // Unlinked at once: the space is freed when the descriptor closes, even after a crash.
  unlink(f->path_.c_str());
  f->buffer_.reserve(kWriteBuffer);
  return f;
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) close(fd_);
}

absl::Status SpillFile::Append(std::string_view key, std::string_view value) {
  AppendVarint(key.size(), &buffer_);
  buffer_.append(key);
  AppendVarint(value.size(), &buffer_);
  buffer_.append(value);
  if (buffer_.size() >= kWriteBuffer) return Flush();
  return absl::OkStatus();
}

absl::Status SpillFile::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = pwrite(fd_, buffer_.data() + done, buffer_.size() - done,
                       static_cast<off_t>(offset_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write");
    }
    done += static_cast<size_t>(n);
  }
  offset_ += buffer_.size();
  buffer_.clear();
  return absl::OkStatus();
}

absl::StatusOr<size_t> SpillFile::EndRun() {
  if (auto s = Flush(); !s.ok()) return s;
  runs_.emplace_back(run_start_, offset_);
  run_start_ = offset_;
  return runs_.size() - 1;
}

SpillFile::RunReader SpillFile::Read(size_t index) const {
  RunReader r;
  r.fd_ = fd_;
  r.pos_ = runs_[index].first;
  r.end_ = runs_[index].second;
  return r;
}

bool SpillFile::RunReader::Fill(size_t need) {
  if (buf_.size() - buf_pos_ >= need) return true;
  buf_.erase(0, buf_pos_);
  buf_pos_ = 0;
  while (buf_.size() < need && pos_ < end_) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(kReadBuffer, need), end_ - pos_));
    size_t old = buf_.size();
    buf_.resize(old + want);
    ssize_t n = pread(fd_, buf_.data() + old, want, static_cast<off_t>(pos_));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        buf_.resize(old);
        continue;
      }
      buf_.resize(old);
      return false;
    }
    buf_.resize(old + static_cast<size_t>(n));
    pos_ += static_cast<uint64_t>(n);
  }
  return buf_.size() >= need;
}

absl::StatusOr<bool> SpillFile::RunReader::Next(std::string* key, std::string* value) {
  auto read_varint = [&](uint64_t* v) -> bool {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!Fill(1)) return false;
      uint8_t b = static_cast<uint8_t>(buf_[buf_pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  if (buf_pos_ >= buf_.size() && pos_ >= end_) return false;
  uint64_t n;
  if (!read_varint(&n) || !Fill(n)) return MongoError(kInternalError, "spill file truncated");
  key->assign(buf_.data() + buf_pos_, n);
  buf_pos_ += n;
  if (!read_varint(&n) || !Fill(n)) return MongoError(kInternalError, "spill file truncated");
  value->assign(buf_.data() + buf_pos_, n);
  buf_pos_ += n;
  return true;
}

}  // namespace micromongo::pipeline
