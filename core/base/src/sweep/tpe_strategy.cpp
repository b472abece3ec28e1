// The Tree-structured Parzen Estimator (Bergstra et al. 2011) with Optuna's defaults: random for
// the first 10 trials; then the trials with an objective are split into the best
// min(ceil(0.1 n), 25) and the rest, each dimension gets a Parzen density of each group (a
// truncated Gaussian per trial plus a wide prior, widths from the neighbours' distances, clipped
// as Optuna's "magic clip"), and of 24 values drawn from the best trials' density the one where
// that density is highest against the others' is proposed. Dimensions are drawn independently.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "sweep/strategies.hpp"

namespace mlq {
namespace {

constexpr int64_t kStartupTrials = 10;
constexpr int kCandidates = 24;
constexpr double kPriorWeight = 1.0;

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// A mixture of Gaussians truncated to [low, high], in the dimension's internal scale.
struct Parzen {
  std::vector<double> mus, sigmas, weights;
  double low = 0, high = 0;

  Parzen(std::vector<double> points, const std::vector<double>& point_weights, double lo, double hi)
      : low(lo), high(hi) {
    const double range = high - low;
    // The prior: one wide component in the middle.
    points.push_back(0.5 * (low + high));
    std::vector<double> w = point_weights;
    w.push_back(kPriorWeight);
    std::vector<size_t> order(points.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return points[a] < points[b]; });
    const double min_sigma = range / std::min(100.0, 1.0 + static_cast<double>(points.size()));
    for (size_t k = 0; k < order.size(); ++k) {
      const size_t i = order[k];
      const double left = k > 0 ? points[i] - points[order[k - 1]] : points[i] - low;
      const double right =
          k + 1 < order.size() ? points[order[k + 1]] - points[i] : high - points[i];
      double sigma = std::max(left, right);
      if (i == points.size() - 1) sigma = range;  // the prior
      mus.push_back(points[i]);
      sigmas.push_back(std::clamp(sigma, min_sigma, range));
      weights.push_back(w[i]);
    }
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    for (double& weight : weights) weight /= total;
  }

  double sample(std::mt19937_64& generator) const {
    std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
    const size_t i = pick(generator);
    std::normal_distribution<double> normal(mus[i], sigmas[i]);
    for (int attempt = 0; attempt < 100; ++attempt) {
      const double x = normal(generator);
      if (x >= low && x <= high) return x;
    }
    return std::clamp(mus[i], low, high);
  }

  double log_density(double x) const {
    double best = -std::numeric_limits<double>::infinity();
    std::vector<double> terms;
    for (size_t i = 0; i < mus.size(); ++i) {
      const double z = (x - mus[i]) / sigmas[i];
      const double mass =
          normal_cdf((high - mus[i]) / sigmas[i]) - normal_cdf((low - mus[i]) / sigmas[i]);
      const double term = std::log(weights[i]) - 0.5 * z * z -
                          std::log(sigmas[i] * std::sqrt(2 * M_PI) * std::max(mass, 1e-12));
      terms.push_back(term);
      best = std::max(best, term);
    }
    double sum = 0;
    for (double term : terms) sum += std::exp(term - best);
    return best + std::log(sum);
  }
};

class TpeStrategy : public SearchStrategy {
 public:
  TpeStrategy(const SearchSpace& space, uint64_t seed, bool minimize)
      : space_(space), seed_(seed), minimize_(minimize) {}

  std::optional<std::vector<std::string>> propose(
      int64_t number, const std::vector<TrialPoint>& history) const override {
    std::mt19937_64 generator = trial_generator(seed_, number);
    std::vector<const TrialPoint*> done;
    for (const TrialPoint& t : history)
      if (t.objective && std::isfinite(*t.objective) && t.number < number) done.push_back(&t);
    std::vector<std::string> values;
    if (static_cast<int64_t>(done.size()) < kStartupTrials) {
      for (const Dimension& d : space_.dimensions) values.push_back(random_value(d, generator));
      return values;
    }
    std::stable_sort(done.begin(), done.end(), [&](const TrialPoint* a, const TrialPoint* b) {
      return minimize_ ? *a->objective < *b->objective : *a->objective > *b->objective;
    });
    const size_t n = done.size();
    const size_t good =
        std::min<size_t>(static_cast<size_t>(std::ceil(0.1 * static_cast<double>(n))), 25);
    for (size_t i = 0; i < space_.dimensions.size(); ++i)
      values.push_back(propose_value(space_.dimensions[i], i, done, good, generator));
    return values;
  }

 private:
  // Where a value lies in the dimension's internal scale (log for log dimensions).
  static double internal(const Dimension& d, const std::string& value) {
    const double x = std::strtod(value.c_str(), nullptr);
    return d.log ? std::log(x) : x;
  }

  std::string propose_value(const Dimension& d, size_t index,
                            const std::vector<const TrialPoint*>& done, size_t good,
                            std::mt19937_64& generator) const {
    if (d.kind == Dimension::Kind::Choice) {
      const size_t k = d.choices.size();
      std::vector<double> below(k, kPriorWeight / static_cast<double>(k)), above = below;
      for (size_t t = 0; t < done.size(); ++t) {
        const auto found = std::find(d.choices.begin(), d.choices.end(), done[t]->values[index]);
        if (found != d.choices.end())
          (t < good ? below : above)[static_cast<size_t>(found - d.choices.begin())] += 1.0;
      }
      std::discrete_distribution<size_t> pick(below.begin(), below.end());
      const double below_total = std::accumulate(below.begin(), below.end(), 0.0);
      const double above_total = std::accumulate(above.begin(), above.end(), 0.0);
      size_t best = pick(generator);
      double best_score = -std::numeric_limits<double>::infinity();
      for (int c = 0; c < kCandidates; ++c) {
        const size_t i = c == 0 ? best : pick(generator);
        const double score = std::log(below[i] / below_total) - std::log(above[i] / above_total);
        if (score > best_score) {
          best_score = score;
          best = i;
        }
      }
      return d.choices[best];
    }
    const bool integer = d.kind == Dimension::Kind::Integer;
    double low = integer ? d.low - 0.5 : d.low, high = integer ? d.high + 0.5 : d.high;
    if (d.log) {
      low = std::log(std::max(low, d.low * 0.5));
      high = std::log(high);
    }
    std::vector<double> below_points, above_points;
    for (size_t t = 0; t < done.size(); ++t)
      (t < good ? below_points : above_points).push_back(internal(d, done[t]->values[index]));
    const Parzen below(below_points, std::vector<double>(below_points.size(), 1.0), low, high);
    const Parzen above(above_points, std::vector<double>(above_points.size(), 1.0), low, high);
    double best = below.sample(generator);
    double best_score = -std::numeric_limits<double>::infinity();
    for (int c = 0; c < kCandidates; ++c) {
      const double x = below.sample(generator);
      const double score = below.log_density(x) - above.log_density(x);
      if (score > best_score) {
        best_score = score;
        best = x;
      }
    }
    const double value = d.log ? std::exp(best) : best;
    if (integer) return format_number(std::clamp(std::round(value), d.low, d.high), true);
    return format_number(std::clamp(value, d.low, d.high), false);
  }

  SearchSpace space_;
  uint64_t seed_;
  bool minimize_;
};

}  // namespace

std::unique_ptr<SearchStrategy> make_tpe_strategy(const SearchSpace& space, uint64_t seed,
                                                  bool minimize) {
  return std::make_unique<TpeStrategy>(space, seed, minimize);
}

}  // namespace mlq
