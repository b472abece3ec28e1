#pragma once
// A sweep's search space in Hydra's sweeper grammar, from overrides (or [sweep] space values):
//   key=a,b,c                      a choice
//   key=choice(a,b,c)              a choice
//   key=range(start,stop[,step])   a choice of start, start+step, ... below stop (as Python)
//   key=interval(low,high)         a real number in [low, high]
//   key=int(interval(low,high))    an integer in [low, high]
//   key=tag(log, interval(...))    the same on a log scale (also tag(log, int(interval(...))))
// Anything else is a plain override every trial gets. A malformed dimension throws ConfigError
// naming the override.
#include <string>
#include <vector>

namespace mlq {

struct Dimension {
  enum class Kind { Choice, Real, Integer };
  std::string key;  // with its prefix (+, ++) as written
  Kind kind = Kind::Choice;
  std::vector<std::string> choices;  // Choice: the values as written
  double low = 0, high = 0;          // Real, Integer: inclusive bounds
  bool log = false;
  std::string text;  // the override as written
  // A value of this dimension as override text ("key=value").
  std::string override_for(const std::string& value) const { return key + "=" + value; }
};

struct SearchSpace {
  std::vector<Dimension> dimensions;
  std::vector<std::string> fixed;  // plain overrides
};

SearchSpace parse_search_space(const std::vector<std::string>& overrides);
// The dimension `key=spec` (spec in the grammar above, a single value is a one-value choice).
Dimension parse_dimension(const std::string& key, const std::string& spec);
// A number as an override value: integers without a decimal point, reals exactly.
std::string format_number(double value, bool integer);

}  // namespace mlq
