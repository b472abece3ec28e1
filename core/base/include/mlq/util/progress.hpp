#pragma once
#include <chrono>
#include <string>

namespace mlq {

// A progress line: rewritten in place on a terminal (at most 5 times a second), printed as
// plain lines every `plain_every` updates otherwise. Thread-safe.
class ProgressLine {
 public:
  explicit ProgressLine(int64_t plain_every = 10);
  // "<label> done/total | <rate> <unit>/s | eta m:ss<suffix>"
  void update(const std::string& label, int64_t done, int64_t total, const std::string& unit,
              const std::string& suffix = "");
  // Prints a line of its own (moves past the progress line on a terminal).
  void print(const std::string& line);
  void finish();
  bool terminal() const { return terminal_; }

 private:
  bool terminal_;
  int64_t plain_every_;
  std::chrono::steady_clock::time_point start_, last_;
  bool open_line_ = false;
};

}  // namespace mlq
