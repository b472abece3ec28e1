#include "mlq/util/duration.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace mlq {

std::string format_duration(double seconds, DurationStyle style) {
  if (style == DurationStyle::Compact && seconds < 0) return "-";
  if (!(seconds >= 0)) seconds = 0;
  if (style == DurationStyle::Words && seconds < 1)
    return fmt::format("{} ms", static_cast<int64_t>(std::lround(seconds * 1000)));
  const auto s = static_cast<int64_t>(std::llround(seconds));
  const int64_t days = s / 86400, hours = s / 3600, minutes = s / 60;
  switch (style) {
    case DurationStyle::Clock:
      return hours > 0 ? fmt::format("{}:{:02}:{:02}", hours, minutes % 60, s % 60)
                       : fmt::format("{}:{:02}", minutes, s % 60);
    case DurationStyle::Compact:
      if (s < 60) return fmt::format("{}s", s);
      if (s < 3600) return fmt::format("{}m{:02}s", minutes, s % 60);
      if (s < 86400) return fmt::format("{}h{:02}m", hours, minutes % 60);
      return fmt::format("{}d{:02}h", days, hours % 24);
    case DurationStyle::Words:
      if (s < 60) return fmt::format("{} s", s);
      if (s < 3600) return fmt::format("{} min {:02} s", minutes, s % 60);
      return fmt::format("{} h {:02} min", hours, minutes % 60);
  }
  return "";
}

}  // namespace mlq
