// Every combination of the choices, the first dimension varying slowest (as --multirun).
#include <fmt/format.h>

#include "mlq/util/error.hpp"
#include "sweep/strategies.hpp"

namespace mlq {
namespace {

class GridStrategy : public SearchStrategy {
 public:
  explicit GridStrategy(const SearchSpace& space) : space_(space) {
    for (const Dimension& d : space_.dimensions) {
      if (d.kind != Dimension::Kind::Choice)
        throw ConfigError(fmt::format(
            "sweep override '{}': a grid needs choices, and this range is continuous (use "
            "random or tpe, or choice(...))",
            d.text));
      size_ *= static_cast<int64_t>(d.choices.size());
    }
  }

  std::optional<std::vector<std::string>> propose(int64_t number,
                                                  const std::vector<TrialPoint>&) const override {
    if (number >= size_) return std::nullopt;
    std::vector<std::string> values(space_.dimensions.size());
    for (size_t i = space_.dimensions.size(); i-- > 0;) {
      const auto& choices = space_.dimensions[i].choices;
      const auto count = static_cast<int64_t>(choices.size());
      values[i] = choices[static_cast<size_t>(number % count)];
      number /= count;
    }
    return values;
  }
  int64_t size() const override { return size_; }

 private:
  SearchSpace space_;
  int64_t size_ = 1;
};

}  // namespace

std::unique_ptr<SearchStrategy> make_grid_strategy(const SearchSpace& space) {
  return std::make_unique<GridStrategy>(space);
}

}  // namespace mlq
