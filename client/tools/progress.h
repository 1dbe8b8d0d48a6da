#pragma once

// Progress of a long tool run on stderr: a redrawn bar on a terminal, a plain line every
// few seconds otherwise (logs, pipes), nothing with --quiet. Documents, bytes, rate and,
// when the total is known, percentage and ETA. Not thread-safe (one reporting thread).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace micromongo::tools {

enum class ProgressStyle { kNone, kBar, kLines };

// kBar when `out` is a terminal, else kLines; kNone when quiet.
ProgressStyle DefaultProgressStyle(std::FILE* out, bool quiet);

class Progress {
 public:
  // `what`: the work ("import test.people"). `total_docs`/`total_bytes`: -1 if unknown;
  // the ETA follows bytes when known, else documents.
  Progress(std::string what, int64_t total_docs, int64_t total_bytes, ProgressStyle style,
           std::FILE* out = stderr);
  ~Progress();

  // The counts so far; redraws at most every 100 ms (bar) or 2 s (lines).
  void Update(int64_t docs, int64_t bytes);
  // The final line (bar completed, or one last plain line).
  void Finish();

  // "12.3 MiB", "1,234,567": exposed for tests and summaries.
  static std::string Bytes(int64_t n);
  static std::string Count(int64_t n);
  // "1:02:03" or "2:03" or "5s".
  static std::string Duration(double seconds);
  // The text of one report (no terminal control).
  std::string Line(double elapsed_seconds) const;

 private:
  void Draw(bool final);

  std::string what_;
  int64_t total_docs_;
  int64_t total_bytes_;
  ProgressStyle style_;
  std::FILE* out_;
  int64_t docs_ = 0;
  int64_t bytes_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace micromongo::tools
