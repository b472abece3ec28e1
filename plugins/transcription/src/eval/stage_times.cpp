#include "eval/stage_times.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace mlq::transcription {

void StageTimes::add(const std::string& stage, double seconds) {
  auto found = std::find_if(stages_.begin(), stages_.end(),
                            [&](const auto& entry) { return entry.first == stage; });
  if (found == stages_.end())
    stages_.emplace_back(stage, seconds);
  else
    found->second += seconds;
}

double StageTimes::seconds(const std::string& stage) const {
  for (const auto& [name, seconds] : stages_)
    if (name == stage) return seconds;
  return 0;
}

std::string StageTimes::breakdown(double audio_seconds, double total_seconds) const {
  std::string text;
  double timed = 0;
  auto part = [&](const std::string& name, double seconds) {
    text += fmt::format("{}{} {:.2f} s (rtf {:.4f}, {:.0f} %)", text.empty() ? "" : ", ", name,
                        seconds, seconds / std::max(audio_seconds, 1e-9),
                        100 * seconds / std::max(total_seconds, 1e-9));
  };
  for (const auto& [name, seconds] : stages_) {
    part(name, seconds);
    timed += seconds;
  }
  part("other", std::max(0.0, total_seconds - timed));
  return text;
}

}  // namespace mlq::transcription
