#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace micromongo::tools {

ProgressStyle DefaultProgressStyle(std::FILE* out, bool quiet) {
  if (quiet) return ProgressStyle::kNone;
  return isatty(fileno(out)) ? ProgressStyle::kBar : ProgressStyle::kLines;
}

Progress::Progress(std::string what, int64_t total_docs, int64_t total_bytes, ProgressStyle style,
                   std::FILE* out)
    : what_(std::move(what)),
      total_docs_(total_docs),
      total_bytes_(total_bytes),
      style_(style),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { Finish(); }

void Progress::Update(int64_t docs, int64_t bytes) {
  docs_ = docs;
  bytes_ = bytes;
  if (style_ == ProgressStyle::kNone) return;
  auto now = std::chrono::steady_clock::now();
  auto every = style_ == ProgressStyle::kBar ? std::chrono::milliseconds(100)
                                             : std::chrono::milliseconds(2000);
  if (now - last_draw_ < every) return;
  last_draw_ = now;
  Draw(false);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (style_ != ProgressStyle::kNone) Draw(true);
}

std::string Progress::Bytes(int64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string Progress::Count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Progress::Duration(double seconds) {
  int64_t s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  }
  return buf;
}

std::string Progress::Line(double elapsed) const {
  std::string line = what_ + ": " + Count(docs_) + " docs";
  if (bytes_ > 0 || total_bytes_ > 0) line += ", " + Bytes(bytes_);
  double fraction = -1;
  if (total_bytes_ > 0) {
    fraction = static_cast<double>(bytes_) / static_cast<double>(total_bytes_);
  } else if (total_docs_ > 0) {
    fraction = static_cast<double>(docs_) / static_cast<double>(total_docs_);
  }
  if (fraction >= 0) {
    fraction = std::min(fraction, 1.0);
    char pct[16];
    std::snprintf(pct, sizeof pct, " (%.1f%%)", fraction * 100);
    line += pct;
  }
  if (elapsed > 0) line += ", " + Count(static_cast<int64_t>(docs_ / elapsed)) + " docs/s";
  if (fraction > 0 && fraction < 1 && elapsed > 0) {
    line += ", ETA " + Duration(elapsed * (1 - fraction) / fraction);
  } else if (fraction >= 1 || total_docs_ == 0) {
    line += ", " + Duration(elapsed);
  }
  return line;
}

void Progress::Draw(bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string text = Line(elapsed);
  if (style_ == ProgressStyle::kBar) {
    double fraction = -1;
    if (total_bytes_ > 0) fraction = static_cast<double>(bytes_) / static_cast<double>(total_bytes_);
    else if (total_docs_ > 0) fraction = static_cast<double>(docs_) / static_cast<double>(total_docs_);
    if (final) fraction = fraction < 0 ? -1 : 1;
    std::string bar;
    if (fraction >= 0) {
      constexpr int kWidth = 24;
      int filled = static_cast<int>(std::min(1.0, fraction) * kWidth);
      bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
    }
    // \r and erase-line: the bar redraws in place.
    std::fprintf(out_, "\r\033[K%s%s%s", bar.c_str(), text.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", text.c_str());
  }
  std::fflush(out_);
}

}  // namespace micromongo::tools
