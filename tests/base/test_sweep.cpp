// runner sweep's parts: the search-space grammar, the strategies, and the manifest's sweep
// records with their atomic trial claims (on both backends).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <cmath>
#include <set>

#include "mlq/config/tree.hpp"
#include "mlq/sweep/space.hpp"
#include "mlq/sweep/strategy.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/metric_direction.hpp"
#include "support/manifest_helpers.hpp"
#include "support/manifest_location.hpp"
#include "support/temp_dir.hpp"

using mlq::Dimension;
using mlq::test::error_of;
using Kind = Dimension::Kind;

TEST_CASE("sweep space: Hydra's sweeper grammar" * doctest::test_suite("sqlite")) {
  const mlq::SearchSpace space = mlq::parse_search_space(
      {"a=1,2,3", "b=choice(adam, sgd)", "c=range(1,10,3)", "d=interval(0, 1)",
       "e=int(interval(2.5, 64))", "f=tag(log, interval(1e-5, 1e-1))",
       "+g=tag(log, int(interval(1, 1024)))", "h=range(0.0, 1.0, 0.25)", "trainer.max_steps=5",
       "x=[1,2]", "~y", "model=mlp"});
  REQUIRE(space.dimensions.size() == 8);
  CHECK(space.fixed ==
        std::vector<std::string>{"trainer.max_steps=5", "x=[1,2]", "~y", "model=mlp"});
  const auto& d = space.dimensions;
  CHECK(d[0].choices == std::vector<std::string>{"1", "2", "3"});
  CHECK(d[1].choices == std::vector<std::string>{"adam", "sgd"});
  CHECK(d[2].choices == std::vector<std::string>{"1", "4", "7"});
  CHECK((d[3].kind == Kind::Real && d[3].low == 0 && d[3].high == 1 && !d[3].log));
  CHECK((d[4].kind == Kind::Integer && d[4].low == 3 && d[4].high == 64));
  CHECK((d[5].kind == Kind::Real && d[5].log && d[5].low == 1e-5));
  CHECK((d[6].key == "+g" && d[6].kind == Kind::Integer && d[6].log));
  CHECK(d[7].choices == std::vector<std::string>{"0.0", "0.25", "0.5", "0.75"});
  CHECK(d[0].override_for("2") == "a=2");
}

TEST_CASE("sweep space: a malformed dimension is one line naming it" *
          doctest::test_suite("sqlite")) {
  auto error = [](const std::string& override) {
    return error_of([&] { mlq::parse_search_space({override}); });
  };
  CHECK(error("lr=loguniform(1e-5, 1)") ==
        "sweep override 'lr=loguniform(1e-5, 1)': unknown search-space function 'loguniform' "
        "(expected choice, range, interval, int or tag)");
  CHECK(error("n=range(5, 1)") == "sweep override 'n=range(5, 1)': range(5, 1) is empty");
  CHECK(error("x=interval(1, 1)").find("interval(1, 1) is empty") != std::string::npos);
  CHECK(error("x=interval(0, a)").find("'a' is not a number") != std::string::npos);
  CHECK(error("x=tag(log, interval(0, 1))").find("a log scale needs a low bound above 0") !=
        std::string::npos);
  CHECK(error("x=tag(sqrt, interval(1, 2))").find("unknown tag 'sqrt'") != std::string::npos);
  CHECK(error("x=int(interval(0.2, 0.8))").find("holds no integer") != std::string::npos);
  CHECK(error("x=1,,2").find("an empty value") != std::string::npos);
}

TEST_CASE("sweep strategies: grid in order, random and tpe seeded" *
          doctest::test_suite("sqlite")) {
  const auto space = mlq::parse_search_space({"a=1,2", "b=x,y,z"});
  const auto grid = mlq::make_strategy("grid", space, 0, true);
  CHECK(grid->size() == 6);
  std::vector<std::vector<std::string>> seen;
  for (int64_t i = 0; i < 7; ++i)
    if (auto v = grid->propose(i, {})) seen.push_back(*v);
  CHECK(seen == std::vector<std::vector<std::string>>{
                    {"1", "x"}, {"1", "y"}, {"1", "z"}, {"2", "x"}, {"2", "y"}, {"2", "z"}});
  CHECK(error_of([&] {
          mlq::make_strategy("grid", mlq::parse_search_space({"a=interval(0,1)"}), 0, true);
        }).find("a grid needs choices") != std::string::npos);
  CHECK(error_of([&] { mlq::make_strategy("bayes", space, 0, true); }) ==
        "sweep strategy 'bayes' is not one of grid, random or tpe");

  const auto continuous = mlq::parse_search_space(
      {"x=interval(-5, 5)", "n=int(interval(1, 8))", "lr=tag(log, interval(1e-4, 1))"});
  for (const char* name : {"random", "tpe"}) {
    const auto a = mlq::make_strategy(name, continuous, 7, true);
    const auto b = mlq::make_strategy(name, continuous, 7, true);
    const auto c = mlq::make_strategy(name, continuous, 8, true);
    CHECK(*a->propose(3, {}) == *b->propose(3, {}));  // the same seed and number: the same trial
    CHECK(*a->propose(3, {}) != *c->propose(3, {}));
    CHECK(*a->propose(3, {}) != *a->propose(4, {}));
    for (int64_t i = 0; i < 50; ++i) {
      const auto v = *a->propose(i, {});
      const double x = std::stod(v[0]), n = std::stod(v[1]), lr = std::stod(v[2]);
      CHECK((x >= -5 && x <= 5 && n >= 1 && n <= 8 && n == std::round(n) && lr >= 1e-4 && lr <= 1));
      CHECK(v[1].find('.') == std::string::npos);  // an integer override
    }
  }
}

TEST_CASE("sweep strategies: tpe finds a better minimum than random on the same budget" *
          doctest::test_suite("sqlite")) {
  // A shifted sphere in 3 dimensions: f = sum (x_i - 1.5)^2 over [-5, 5].
  const auto space =
      mlq::parse_search_space({"x=interval(-5, 5)", "y=interval(-5, 5)", "z=interval(-5, 5)"});
  auto best_after = [&](const char* name, uint64_t seed, int budget) {
    const auto strategy = mlq::make_strategy(name, space, seed, true);
    std::vector<mlq::TrialPoint> history;
    double best = INFINITY;
    for (int64_t i = 0; i < budget; ++i) {
      const auto v = *strategy->propose(i, history);
      double f = 0;
      for (const auto& s : v) f += (std::stod(s) - 1.5) * (std::stod(s) - 1.5);
      history.push_back({i, v, f});
      best = std::min(best, f);
    }
    return best;
  };
  double tpe = 0, random = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    tpe += best_after("tpe", seed, 60);
    random += best_after("random", seed, 60);
  }
  INFO("mean best of 5 seeds: tpe " << tpe / 5 << ", random " << random / 5);
  CHECK(tpe < 0.5 * random);
}

namespace {

mlq::SweepRecord sample_sweep(const std::string& id) {
  mlq::SweepRecord s;
  s.id = id;
  s.task = "regression";
  s.start_time = mlq::now_seconds();
  s.strategy = "random";
  s.space = R"j(["lr=interval(0,1)"])j";
  s.objective = "val_loss";
  s.direction = "min";
  s.trials = 40;
  s.settings = "{}";
  return s;
}

}  // namespace

TEST_CASE("sweep records: trials claimed once each, by any number of workers at once") {
  mlq::test::TempDir dir;
  const std::string db = mlq::test::manifest_location(dir / "runs.sqlite");
  {
    mlq::Manifest m(db);
    m.create_sweep(sample_sweep("s1"));
    for (int64_t i = 0; i < 40; ++i) {
      mlq::SweepTrial t;
      t.sweep_id = "s1";
      t.number = i;
      t.params = {"lr=" + std::to_string(i)};
      CHECK(m.add_trial(t));
      CHECK_FALSE(m.add_trial(t));  // the number is taken
    }
  }
  // Four processes claim until nothing is pending; each writes down what it got.
  std::vector<pid_t> pids;
  for (int w = 0; w < 4; ++w) {
    const pid_t pid = fork();
    if (pid == 0) {
      try {
        mlq::Manifest m(db);
        std::string got;
        while (auto t = m.claim_trial("s1", "worker" + std::to_string(w))) {
          t->status = mlq::kFinished;
          t->objective = static_cast<double>(t->number);
          m.update_trial(*t);
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "worker %d: %s\n", w, e.what());
        _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  mlq::Manifest m(db);
  const auto trials = m.sweep_trials("s1");
  REQUIRE(trials.size() == 40);
  std::set<std::string> workers;
  for (const auto& t : trials) {
    CHECK(t.status == mlq::kFinished);
    CHECK(t.objective == static_cast<double>(t.number));
    workers.insert(t.worker);
  }
  CHECK_FALSE(m.claim_trial("s1", "late"));
  CHECK(m.find_sweep("s")->id == "s1");
  m.set_sweep_status("s1", mlq::kFinished);
  CHECK(m.list_sweeps().front().status == mlq::kFinished);
  CHECK(m.list_sweeps().front().end_time > 0);
}

TEST_CASE("sweep records: each rung's values, each trial's once") {
  mlq::test::TempDir dir;
  mlq::Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  m.create_sweep(sample_sweep("s2"));
  CHECK(m.report_rung("s2", 0, 0, 0.5) == std::vector<double>{0.5});
  CHECK(m.report_rung("s2", 0, 1, 0.25).size() == 2);
  CHECK(m.report_rung("s2", 0, 1, 9.0).size() == 2);  // reported twice: the first value stays
  auto values = m.report_rung("s2", 0, 2, 0.75);
  std::sort(values.begin(), values.end());
  CHECK(values == std::vector<double>{0.25, 0.5, 0.75});
  CHECK(m.report_rung("s2", 1, 1, 0.2) == std::vector<double>{0.2});
}

TEST_CASE("metric directions: a config's override, then a plugin's declaration, then the name" *
          doctest::test_suite("sqlite")) {
  CHECK(mlq::lower_is_better("val_loss"));
  CHECK(mlq::lower_is_better("test_onset_error"));
  CHECK(mlq::lower_is_better("train_loss"));
  CHECK(mlq::lower_is_better("val_rmse"));
  CHECK_FALSE(mlq::lower_is_better("val_r2"));
  CHECK_FALSE(mlq::lower_is_better("test_onset_f1"));
  CHECK_FALSE(mlq::lower_is_better("val_lossless_ratio"));
  mlq::MetricDirections directions;
  directions.declared = {{{"perplexity", true}, {"r2", false}}};
  CHECK(directions.mode("val_perplexity") == "min");  // declared: the name alone says max
  CHECK(directions.mode("val_r2") == "max");
  directions.overrides["val_r2"] = "min";
  CHECK(directions.mode("val_r2") == "min");
  CHECK(directions.mode("test_r2") == "max");
  const mlq::Config config(toml::parse("[metrics.directions]\nval_acc = \"min\"\n"), {});
  CHECK(mlq::metric_directions(config).mode("val_acc") == "min");
  const mlq::Config bad(toml::parse("[metrics.directions]\nval_acc = \"up\"\n"), {});
  CHECK(error_of([&] {
          mlq::metric_directions(bad);
        }).find("config key 'metrics.directions.val_acc'") != std::string::npos);
}
