#pragma once
#include <chrono>
#include <string>

namespace mlq {

// A progress line: rewritten in place on a terminal (at most 5 times a second). Otherwise (a log
// file, CI) a plain line at each tenth of the total, and at least every 30 s of slow work, so a
// pass over thousands of files logs about ten lines. Thread-safe.
class ProgressLine {
 public:
  ProgressLine();
  // "<label> done/total | <rate> <unit>/s | eta m:ss<suffix>"
  void update(const std::string& label, int64_t done, int64_t total, const std::string& unit,
              const std::string& suffix = "");
  // Prints a line of its own (moves past the progress line on a terminal).
  void print(const std::string& line);
  void finish();
  bool terminal() const { return terminal_; }

 private:
  bool terminal_;
  int64_t tenths_shown_ = 0;  // tenths of the total done at the last plain line
  std::chrono::steady_clock::time_point start_, last_;
  bool open_line_ = false;
};

}  // namespace mlq
