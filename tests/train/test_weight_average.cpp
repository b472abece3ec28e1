#include <doctest/doctest.h>
#include <torch/torch.h>

#include <algorithm>

#include "mlq/train/checkpoint.hpp"
#include "mlq/train/trainer.hpp"
#include "support/temp_dir.hpp"
#include "train/toy_task.hpp"

using mlq::test::config_from;
using mlq::test::TempDir;
using mlq::test::ToyTask;

namespace {

// The toy line with a floating-point buffer that counts training forward passes, so that
// buffers' averaging is checked too.
struct CountingLine : mlq::test::Line {
  CountingLine() { calls = register_buffer("calls", torch::zeros({1})); }
  mlq::TensorMap forward(const mlq::TensorMap& batch) override {
    if (is_training()) calls.add_(1);
    return Line::forward(batch);
  }
  torch::Tensor calls;
};

// Every CountingTask's model starts from the same weights.
struct CountingTask : ToyTask {
  CountingTask() { model_ = counting; }
  std::shared_ptr<CountingLine> counting = seeded_line();
  static std::shared_ptr<CountingLine> seeded_line() {
    torch::manual_seed(11);
    return std::make_shared<CountingLine>();
  }
};

mlq::Config ema_config(const std::string& extra) {
  return config_from(
      "task = 'toy'\n[trainer]\nthreads = 1\nprogress_bar = false\nbatch_size = 8\n"
      "val_every_n_epochs = 0\n" +
      extra + "\n[trainer.optimizer]\nname = 'sgd'\nlr = 0.1\n");
}

// Weight, bias and the call counter.
torch::Tensor state_of(CountingLine& model) {
  return torch::cat({model.linear_->weight.flatten(), model.linear_->bias, model.calls}).clone();
}

struct Recorder : mlq::Callback {
  explicit Recorder(CountingLine& model) : model(model) {}
  std::string name() const override { return "recorder"; }
  void on_train_batch_end(mlq::Trainer&, const mlq::StepInfo&) override {
    after_each_step.push_back(state_of(model));
  }
  CountingLine& model;
  std::vector<torch::Tensor> after_each_step;
};

}  // namespace

TEST_CASE("ema_decay: the moving average is validated and checkpointed, training goes on raw") {
  TempDir dir;
  CountingTask task;
  mlq::Trainer trainer(ema_config("max_steps = 12\nema_decay = 0.8"), task, nullptr);
  auto recorder = std::make_shared<Recorder>(*task.counting);
  trainer.add_callback(recorder);
  const torch::Tensor initial = state_of(*task.counting);
  trainer.fit();

  // The average after step k (k = 0, 1, ...) decays by min(0.8, (1 + k) / (10 + k)).
  torch::Tensor expected = initial;
  for (size_t k = 0; k < recorder->after_each_step.size(); ++k) {
    const double decay = std::min(0.8, (1.0 + k) / (10.0 + k));
    expected = decay * expected + (1 - decay) * recorder->after_each_step[k];
  }
  REQUIRE(recorder->after_each_step.size() == 12);
  const torch::Tensor raw = state_of(*task.counting);
  CHECK(raw.equal(recorder->after_each_step.back()));
  CHECK_FALSE(torch::allclose(raw, expected, 1e-4, 1e-6));  // averaging changes something

  // Training itself does not see the average: the same run without it ends at the same weights.
  CountingTask plain;
  mlq::Trainer plain_trainer(ema_config("max_steps = 12"), plain, nullptr);
  plain_trainer.fit();
  CHECK(state_of(*plain.counting).equal(raw));

  // Validation scores the averaged weights and leaves the raw ones in place.
  const mlq::Scalars metrics = trainer.validate();
  const torch::Tensor x = torch::linspace(-1, 1, 32).unsqueeze(1);
  const torch::Tensor averaged_prediction = expected[0] * x + expected[1];
  CHECK(metrics.at("val_loss") ==
        doctest::Approx(torch::mse_loss(averaged_prediction, 2 * x + 1).item<double>()));
  CHECK(state_of(*task.counting).equal(raw));

  // The checkpoint's weights, which test and predict load, are the average.
  trainer.save_checkpoint(dir / "ema.pt");
  CountingLine loaded;
  mlq::load_model_weights(loaded, dir / "ema.pt");
  CHECK(torch::allclose(state_of(loaded), expected, 1e-5, 1e-6));
}

TEST_CASE("ema_decay: a resumed run continues both the raw weights and their average exactly") {
  TempDir dir;
  CountingTask whole;
  mlq::Trainer whole_trainer(ema_config("max_steps = 12\nema_decay = 0.8"), whole, nullptr);
  whole_trainer.fit();
  whole_trainer.save_checkpoint(dir / "whole.pt");

  struct StopAtFive : mlq::Callback {
    std::string name() const override { return "stop"; }
    void on_train_batch_end(mlq::Trainer& trainer, const mlq::StepInfo& info) override {
      if (info.step == 5) trainer.request_stop("test");
    }
  };
  CountingTask first;
  mlq::Trainer first_trainer(ema_config("max_steps = 12\nema_decay = 0.8"), first, nullptr);
  first_trainer.add_callback(std::make_shared<StopAtFive>());
  first_trainer.fit();
  REQUIRE(first_trainer.step() == 5);
  first_trainer.save_checkpoint(dir / "step5.pt");
  CountingTask second;
  mlq::Trainer second_trainer(ema_config("max_steps = 12\nema_decay = 0.8"), second, nullptr);
  second_trainer.fit(dir / "step5.pt");
  CHECK(state_of(*second.counting).equal(state_of(*whole.counting)));
  second_trainer.save_checkpoint(dir / "resumed.pt");

  CountingLine whole_average, resumed_average;
  mlq::load_model_weights(whole_average, dir / "whole.pt");
  mlq::load_model_weights(resumed_average, dir / "resumed.pt");
  CHECK(state_of(resumed_average).equal(state_of(whole_average)));
}

TEST_CASE("ema_decay of 1 or more is a config error naming the key") {
  ToyTask task;
  CHECK_THROWS_WITH_AS(mlq::Trainer(ema_config("max_steps = 5\nema_decay = 1.0"), task, nullptr),
                       doctest::Contains("trainer.ema_decay"), mlq::ConfigError);
}
