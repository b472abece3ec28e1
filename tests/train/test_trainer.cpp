#include <doctest/doctest.h>
#include <torch/torch.h>

#include <fstream>
#include <string>

#include "mlq/train/callbacks.hpp"
#include "mlq/train/trainer.hpp"
#include "mlq/util/cpu_features.hpp"
#include "strategy/precision.hpp"
#include "train/toy_task.hpp"

using mlq::test::config_from;
using mlq::test::ToyTask;

namespace {

// [trainer] with test defaults for every key that `extra` does not set itself.
std::string trainer_toml(const std::string& extra) {
  std::string toml = "task = 'toy'\n[trainer]\n" + extra + "\n";
  for (const char* line :
       {"threads = 1", "progress_bar = false", "batch_size = 8", "val_every_n_epochs = 0"}) {
    const std::string key = std::string(line).substr(0, std::string(line).find(' '));
    if (extra.find(key + " =") == std::string::npos)
      toml.insert(toml.find("]\n") + 2, std::string(line) + "\n");
  }
  return toml + "[trainer.optimizer]\nname = 'sgd'\nlr = 0.1\n";
}

torch::Tensor weights(ToyTask& task) {
  return torch::cat({task.model_->linear_->weight.flatten(), task.model_->linear_->bias}).clone();
}

struct StopCounter : mlq::Callback {
  std::string name() const override { return "counter"; }
  void on_train_batch_end(mlq::Trainer&, const mlq::StepInfo& info) override {
    steps.push_back(info.step);
    losses.push_back(info.loss);
  }
  void on_validation_end(mlq::Trainer&, const mlq::Scalars& m) override {
    validations.push_back(m);
  }
  std::vector<int64_t> steps;
  std::vector<double> losses;
  std::vector<mlq::Scalars> validations;
};

}  // namespace

TEST_CASE("fit runs max_steps optimizer steps and learns") {
  ToyTask task;
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 200")), task, nullptr);
  auto counter = std::make_shared<StopCounter>();
  trainer.add_callback(counter);
  trainer.fit();
  CHECK(trainer.step() == 200);
  CHECK(counter->steps.back() == 200);
  CHECK(counter->losses.back() < 1e-3);
  auto w = weights(task);
  CHECK(w[0].item<double>() == doctest::Approx(2.0).epsilon(0.02));
  CHECK(w[1].item<double>() == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("max_epochs bounds training and validation runs every n epochs") {
  ToyTask task(32);
  mlq::Trainer trainer(
      config_from(trainer_toml("max_steps = 0\nmax_epochs = 3\nval_every_n_epochs = 1")), task,
      nullptr);
  auto counter = std::make_shared<StopCounter>();
  trainer.add_callback(counter);
  trainer.fit();
  CHECK(trainer.step() == 12);  // 3 epochs x 32/8 batches
  CHECK(counter->validations.size() == 3);
  CHECK(counter->validations[0].count("val_loss") == 1);
}

TEST_CASE("limit_val_batches and val_every_n_steps") {
  ToyTask task(32);
  mlq::Trainer trainer(
      config_from(trainer_toml("max_steps = 10\nval_every_n_steps = 5\nlimit_val_batches = 2")),
      task, nullptr);
  trainer.fit();
  CHECK(task.validation_batches == 4);  // 2 validations x 2 batches
  // The last step is validated even when it is not a multiple: steps 5 and 7.
  ToyTask uneven(32);
  mlq::Trainer seven_steps(
      config_from(trainer_toml("max_steps = 7\nval_every_n_steps = 5\nlimit_val_batches = 2")),
      uneven, nullptr);
  seven_steps.fit();
  CHECK(uneven.validation_batches == 4);
}

TEST_CASE("gradient accumulation equals one larger batch") {
  torch::manual_seed(1);
  ToyTask small_batches;
  torch::manual_seed(1);
  ToyTask large_batch;
  REQUIRE(weights(small_batches).equal(weights(large_batch)));
  mlq::Trainer accumulated(
      config_from(trainer_toml("max_steps = 1\naccumulate_grad_batches = 2\nbatch_size = 4")),
      small_batches, nullptr);
  mlq::Trainer single(config_from(trainer_toml("max_steps = 1")), large_batch, nullptr);
  accumulated.fit();
  single.fit();
  CHECK(small_batches.training_steps == 2);
  CHECK(torch::allclose(weights(small_batches), weights(large_batch), 1e-6, 1e-7));
}

TEST_CASE("gradient clipping by value bounds each update") {
  torch::manual_seed(5);
  ToyTask task;
  torch::Tensor before = weights(task);
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 1\ngradient_clip_val = 0.01\n"
                                                "gradient_clip_algorithm = 'value'")),
                       task, nullptr);
  trainer.fit();
  auto change = (weights(task) - before).abs().max().item<double>();
  CHECK(change <= 0.1 * 0.01 + 1e-6);  // lr x clip, plus float32 rounding; unclipped is ~0.1
  CHECK(change > 0);
}

TEST_CASE("gradient clipping by norm bounds the update norm") {
  ToyTask task;
  torch::Tensor before = weights(task);
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 1\ngradient_clip_val = 0.05")), task,
                       nullptr);
  trainer.fit();
  // Plain SGD moves by lr x the clipped gradient, whose norm is the clip value (the unclipped
  // gradient's is far larger): exactly 0.005, neither more nor less.
  CHECK((weights(task) - before).norm().item<double>() ==
        doctest::Approx(0.1 * 0.05).epsilon(1e-4));
}

TEST_CASE("non-finite loss: skip counts and continues, stop fails with a clear message") {
  ToyTask skipping(32, /*nan_at=*/5);
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 8")), skipping, nullptr);
  trainer.fit();
  CHECK(trainer.step() == 8);
  CHECK(trainer.nonfinite_count() >= 1);
  CHECK_FALSE(torch::isnan(weights(skipping)).any().item<bool>());

  ToyTask stopping(32, 5);
  mlq::Trainer strict(config_from(trainer_toml("max_steps = 8\nnonfinite_loss = 'stop'")), stopping,
                      nullptr);
  CHECK_THROWS_WITH_AS(strict.fit(), doctest::Contains("non-finite training loss"), mlq::UserError);

  ToyTask limited(32, 5);
  mlq::Trainer capped(config_from(trainer_toml("max_steps = 40\nmax_nonfinite = 0")), limited,
                      nullptr);
  CHECK_THROWS_WITH_AS(capped.fit(), doctest::Contains("max_nonfinite"), mlq::UserError);
}

TEST_CASE("early stopping ends training after `patience` validations without improvement") {
  ToyTask task(32, -1, /*constant_metric=*/true);
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 100\nval_every_n_steps = 2")), task,
                       nullptr);
  trainer.add_callback(std::make_shared<mlq::EarlyStopping>(
      config_from("monitor = 'val_loss'\npatience = 3\nmode = 'min'")));
  trainer.fit();
  CHECK(trainer.step() == 8);  // best at step 2, then 3 validations without improvement
  CHECK(trainer.stop_requested());
}

TEST_CASE("same seed, same result, and another trainer.seed, another result") {
  // The model starts from the same weights every time: only trainer.seed (the order of the
  // shuffled batches) differs.
  auto run = [](int64_t seed) {
    torch::manual_seed(11);
    ToyTask task;
    mlq::Trainer trainer(config_from(trainer_toml("max_steps = 5\ndeterministic = true\nseed = " +
                                                  std::to_string(seed))),
                         task, nullptr);
    trainer.fit();
    return weights(task);
  };
  CHECK(run(3).equal(run(3)));
  CHECK_FALSE(run(3).equal(run(4)));
}

TEST_CASE("bf16-mixed autocast runs matrix products in bfloat16 inside its scope only") {
  const torch::Tensor a = torch::rand({4, 4});
  {
    mlq::AutocastScope outer(mlq::Precision::BFloat16Mixed, torch::Device(torch::kCPU));
    CHECK((torch::mm(a, a).scalar_type() == torch::kBFloat16));
    CHECK((torch::mse_loss(torch::mm(a, a), a).scalar_type() == torch::kFloat));  // losses: fp32
    { mlq::AutocastScope inner(mlq::Precision::BFloat16Mixed, torch::Device(torch::kCPU)); }
    CHECK((torch::mm(a, a).scalar_type() == torch::kBFloat16));  // still inside `outer`
  }
  CHECK((torch::mm(a, a).scalar_type() == torch::kFloat));
  mlq::AutocastScope full(mlq::Precision::Float32, torch::Device(torch::kCPU));
  CHECK((torch::mm(a, a).scalar_type() == torch::kFloat));
}

TEST_CASE("bf16-mixed training learns and keeps float32 weights") {
  ToyTask task;
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 200\nprecision = 'bf16-mixed'")), task,
                       nullptr);
  trainer.fit();
  const torch::Tensor w = weights(task);
  CHECK((w.scalar_type() == torch::kFloat));
  CHECK((task.model_->linear_->weight.grad().scalar_type() == torch::kFloat));
  CHECK((task.training_dtype == torch::kBFloat16));
  // bfloat16 keeps about 3 significant digits in the forward pass.
  CHECK(w[0].item<double>() == doctest::Approx(2.0).epsilon(0.05));
  CHECK(w[1].item<double>() == doctest::Approx(1.0).epsilon(0.05));
}

TEST_CASE(
    "precision auto is bf16-mixed on a CPU with bfloat16 instructions and float32 elsewhere") {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line) && line.rfind("flags", 0) != 0) {
  }
  REQUIRE_MESSAGE(!line.empty(), "no flags line in /proc/cpuinfo");
  const auto has = [&](const std::string& flag) {
    return (line + " ").find(" " + flag + " ") != std::string::npos;
  };
  const bool native = has("avx512_bf16") && has("avx512f");
  CHECK(mlq::cpu_has_native_bfloat16() == native);
  using mlq::Precision;
  CHECK(mlq::resolve_precision(Precision::Auto, /*on_cpu=*/true) ==
        (native ? Precision::BFloat16Mixed : Precision::Float32));
  CHECK(mlq::resolve_precision(Precision::Auto, /*on_cpu=*/false) == Precision::Float32);
  CHECK(mlq::resolve_precision(Precision::BFloat16Mixed, true) == Precision::BFloat16Mixed);
  CHECK(mlq::resolve_precision(Precision::Float32, true) == Precision::Float32);

  ToyTask task;
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 200\nprecision = 'auto'")), task,
                       nullptr);
  trainer.fit();
  CHECK((task.training_dtype == (native ? torch::kBFloat16 : torch::kFloat)));
  CHECK(weights(task)[0].item<double>() == doctest::Approx(2.0).epsilon(0.05));
}

TEST_CASE("trainer config is schema-checked") {
  ToyTask task;
  CHECK_THROWS_WITH_AS(mlq::Trainer(config_from(trainer_toml("max_step = 5")), task, nullptr),
                       doctest::Contains("did you mean 'max_steps'"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(
      mlq::Trainer(config_from(trainer_toml("nonfinite_loss = 'ignore'")), task, nullptr),
      doctest::Contains("trainer.nonfinite_loss"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(mlq::Trainer(config_from(trainer_toml("device = 'tpu'")), task, nullptr),
                       doctest::Contains("trainer.device"), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(mlq::Trainer(config_from(trainer_toml("precision = 'bf16'")), task, nullptr),
                       doctest::Contains("'trainer.precision' = \"bf16\": expected \"32\", "
                                         "\"bf16-mixed\" or \"auto\""),
                       mlq::ConfigError);
  if (!torch::cuda::is_available())
    CHECK_THROWS_WITH_AS(mlq::Trainer(config_from(trainer_toml("device = 'cuda'")), task, nullptr),
                         doctest::Contains("no usable CUDA device"), mlq::ConfigError);
}

TEST_CASE("learning-rate schedule is applied per step") {
  ToyTask task;
  mlq::Trainer trainer(
      config_from(trainer_toml("max_steps = 4\n[trainer.scheduler]\nname = 'step'\nstep_size = 2\n"
                               "gamma = 0.5")),
      task, nullptr);
  trainer.fit();
  CHECK(trainer.lr() == doctest::Approx(0.05));  // step index 3 -> 0.1 * 0.5
}

TEST_CASE(
    "an epoch ending inside a gradient accumulation still validates, and stops at max_epochs") {
  ToyTask task(32);  // 4 batches of 8 per epoch; 3 batches per step
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 0\nmax_epochs = 2\n"
                                                "accumulate_grad_batches = 3\n"
                                                "val_every_n_epochs = 1")),
                       task, nullptr);
  auto counter = std::make_shared<StopCounter>();
  trainer.add_callback(counter);
  trainer.fit();
  CHECK(counter->validations.size() == 2);
  CHECK(task.training_steps == 8);  // two epochs of 4 batches, none from a third
}

TEST_CASE("cosine decays over the steps of an epoch-bounded run") {
  ToyTask task(32);
  mlq::Trainer trainer(
      config_from(trainer_toml("max_steps = 0\nmax_epochs = 2\n[trainer.scheduler]\n"
                               "name = 'cosine'")),
      task, nullptr);
  auto counter = std::make_shared<StopCounter>();
  trainer.add_callback(counter);
  trainer.fit();
  REQUIRE(trainer.step() == 8);
  CHECK(trainer.lr() > 0.0);  // was 0 from the first step: the schedule spanned max_steps = 0
  CHECK(trainer.lr() < 0.1 * 0.1);
}

namespace {

// Appends its name to a shared list at every hook it receives, as "name:hook".
struct HookRecorder : mlq::Callback {
  HookRecorder(std::string name, std::vector<std::string>& calls)
      : name_(std::move(name)), calls_(calls) {}
  std::string name() const override { return name_; }
  void on_train_batch_end(mlq::Trainer&, const mlq::StepInfo&) override {
    calls_.push_back(name_ + ":batch");
  }
  void on_validation_end(mlq::Trainer&, const mlq::Scalars&) override {
    calls_.push_back(name_ + ":validation");
  }
  std::string name_;
  std::vector<std::string>& calls_;
};

}  // namespace

TEST_CASE("hooks run in the order callbacks were added, the checkpoint callback always last") {
  ToyTask task;
  mlq::Trainer trainer(config_from(trainer_toml("max_steps = 2\nval_every_n_steps = 2")), task,
                       nullptr);
  std::vector<std::string> calls;
  // Standing in for the checkpoint callback (same name): its hooks must come after the others'.
  trainer.add_callback(std::make_shared<HookRecorder>("checkpoint", calls));
  trainer.add_callback(std::make_shared<HookRecorder>("first", calls));
  trainer.add_callback(std::make_shared<HookRecorder>("second", calls));
  CHECK(trainer.callback_names() == std::vector<std::string>{"first", "second", "checkpoint"});
  trainer.fit();
  CHECK(calls == std::vector<std::string>{"first:batch", "second:batch", "checkpoint:batch",
                                          "first:batch", "second:batch", "checkpoint:batch",
                                          "first:validation", "second:validation",
                                          "checkpoint:validation"});
}
