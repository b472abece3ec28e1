#include "mlq/util/batch_failures.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace mlq {

void BatchFailures::add(const std::string& item, const std::exception& error) {
  std::string reason = error.what();
  reason = reason.substr(0, reason.find('\n'));
  const std::string line = reason.rfind(item, 0) == 0 ? reason : item + ": " + reason;
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", line.c_str());
  lines_.push_back(line);
}

std::string BatchFailures::summary() const {
  if (lines_.empty()) return "";
  std::string summary = fmt::format(", {} failed: ", lines_.size());
  for (size_t i = 0; i < lines_.size() && i < 10; ++i) summary += (i ? "; " : "") + lines_[i];
  if (lines_.size() > 10) summary += fmt::format("; and {} more", lines_.size() - 10);
  return summary;
}

}  // namespace mlq
