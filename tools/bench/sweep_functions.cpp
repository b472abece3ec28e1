// The sweep strategies on test functions: the best objective after 10, 20 and 40 trials of
// random and tpe, for each seed. Prints "function strategy seed best10 best20 best40" lines;
// tools/bench/sweep_strategies.sh puts them beside Optuna's (tools/bench/peer/optuna_functions.py).
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "mlq/sweep/strategy.hpp"

namespace {

struct Function {
  const char* name;
  std::vector<std::string> space;
  std::function<double(const std::vector<double>&)> f;
};

const std::vector<Function>& functions() {
  static const std::vector<Function> all = {
      {"sphere5",
       {"x0=interval(-5, 5)", "x1=interval(-5, 5)", "x2=interval(-5, 5)", "x3=interval(-5, 5)",
        "x4=interval(-5, 5)"},
       [](const std::vector<double>& x) {
         double s = 0;
         for (double v : x) s += (v - 1.5) * (v - 1.5);
         return s;
       }},
      {"branin",
       {"x0=interval(-5, 10)", "x1=interval(0, 15)"},
       [](const std::vector<double>& x) {
         const double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10,
                      t = 1 / (8 * M_PI);
         const double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
         return a * u * u + s * (1 - t) * std::cos(x[0]) + s;
       }},
  };
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::stoi(argv[1]) : 10;
  for (const Function& function : functions()) {
    const mlq::SearchSpace space = mlq::parse_search_space(function.space);
    for (const char* name : {"random", "tpe"})
      for (int seed = 0; seed < seeds; ++seed) {
        const auto strategy = mlq::make_strategy(name, space, static_cast<uint64_t>(seed), true);
        std::vector<mlq::TrialPoint> history;
        double best = INFINITY;
        std::vector<double> at;
        for (int64_t i = 0; i < 40; ++i) {
          const auto values = *strategy->propose(i, history);
          std::vector<double> x;
          for (const auto& v : values) x.push_back(std::stod(v));
          const double y = function.f(x);
          history.push_back({i, values, y});
          best = std::min(best, y);
          if (i + 1 == 10 || i + 1 == 20 || i + 1 == 40) at.push_back(best);
        }
        std::printf("%s %s %d %.6g %.6g %.6g\n", function.name, name, seed, at[0], at[1], at[2]);
      }
  }
}
