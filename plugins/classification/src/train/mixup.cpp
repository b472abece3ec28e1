#include "train/mixup.hpp"

#include <cmath>

namespace mlq::classification {
namespace {

double normal(AugmentRng& rng) {  // Box-Muller
  const double u = 1 - rng.uniform(), v = rng.uniform();
  return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
}

// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through Gamma(shape + 1) * U^(1/shape).
double gamma(double shape, AugmentRng& rng) {
  if (shape < 1) return gamma(shape + 1, rng) * std::pow(1 - rng.uniform(), 1 / shape);
  const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  while (true) {
    double x, v;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = 1 - rng.uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

class Mixup : public BatchAugmentor {
 public:
  explicit Mixup(const Config& c) {
    c.check_known_keys("", {"probability", "alpha", "keys"});
    alpha_ = c.get_double("alpha", 0.4, Range::above(0));
    keys_ = c.has("keys") ? c.get_strings("keys") : std::vector<std::string>{"audio", "target"};
  }
  void apply(TensorMap& batch, int64_t index, AugmentRng& rng) const override {
    const int64_t size = batch.at(keys_.front()).size(0);
    if (size < 2) return;
    int64_t other = rng.integer(0, size - 2);
    if (other >= index) ++other;  // any example but this one
    const double l = beta_symmetric(alpha_, rng), lambda = std::max(l, 1 - l);
    torch::NoGradGuard no_grad;
    for (const std::string& key : keys_) {
      const auto found = batch.find(key);
      if (found == batch.end())
        throw UserError("augment.mixup: the batch has no '" + key + "' (augment.mixup.keys)");
      torch::Tensor& t = found->second;
      t[index].mul_(lambda).add_(t[other], 1 - lambda);
    }
  }

 private:
  double alpha_;
  std::vector<std::string> keys_;
};

}  // namespace

double beta_symmetric(double alpha, AugmentRng& rng) {
  const double x = gamma(alpha, rng), y = gamma(alpha, rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

std::unique_ptr<BatchAugmentor> make_mixup(const Config& config) {
  return std::make_unique<Mixup>(config);
}

}  // namespace mlq::classification
