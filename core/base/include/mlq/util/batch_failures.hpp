#pragma once
// A batch command's failures: one bad item is one `error:` line on stderr and the others go on;
// the closing summary names the failures and the exit status says there were some.
#include <exception>
#include <string>
#include <vector>

namespace mlq {

class BatchFailures {
 public:
  // Prints "error: <item>: <reason>" (the reason's first line; the item is not repeated when the
  // reason already starts with it) and keeps that line.
  void add(const std::string& item, const std::exception& error);
  bool empty() const { return lines_.empty(); }
  size_t size() const { return lines_.size(); }
  // ", K failed: <line>; <line>..." (the first 10, then "and N more"); "" when none failed.
  std::string summary() const;

 private:
  std::vector<std::string> lines_;
};

}  // namespace mlq
