#pragma once
// One formatter for every duration the runner prints, in the three styles it needs.
#include <string>

namespace mlq {

enum class DurationStyle {
  Clock,    // progress ETAs: "1:05", "2:03:04"
  Compact,  // table columns: "45s", "3m07s", "2h05m", "1d03h"; "-" if negative
  Words,    // messages: "250 ms", "42 s", "3 min 05 s", "2 h 03 min"; negative counts as 0
};

std::string format_duration(double seconds, DurationStyle style);

}  // namespace mlq
