// The example plugin (docs/plugins.md): noisy linear regression on generated data, learned by a
// small MLP. Small enough to train in a second, real enough to exercise the loader, the trainer
// and the manifest; CI trains it and compares it with a committed baseline (tools/regress.sh).
// It registers one of every kind: task, model, dataset, loss, metric, metadata parser, callback.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "mlq/plugin.hpp"

MLQ_PLUGIN("regression", "0.1.0", "regression")

namespace {

// y = x . w + b + noise; w and b depend on data.seed only, the examples on the split as well.
// data.corrupt_every = k > 0 makes every k-th training target NaN (tests the non-finite policy);
// data.load_delay_ms simulates slow storage (tests kill a run mid-training).
class LinearData : public mlq::Dataset {
 public:
  LinearData(const mlq::Config& c, mlq::Split split) {
    c.check_known_keys("", {"name", "input_dim", "noise", "seed", "num_train", "num_validation",
                            "num_test", "corrupt_every", "load_delay_ms"});
    load_delay_ = std::chrono::microseconds(
        static_cast<int64_t>(1000 * c.get_double("load_delay_ms", 0.0, mlq::Range::at_least(0))));
    const int64_t dim = c.get_int("input_dim", 8, mlq::Range::at_least(1));
    const int64_t seed = c.get_int("seed", 0);
    const char* count_key = split == mlq::Split::Train        ? "num_train"
                            : split == mlq::Split::Validation ? "num_validation"
                                                              : "num_test";
    const int64_t n = c.get_int(count_key, 64, mlq::Range::at_least(0));
    auto weights_generator = at::detail::createCPUGenerator(static_cast<uint64_t>(seed));
    torch::Tensor w = at::randn({dim, 1}, weights_generator);
    auto generator = at::detail::createCPUGenerator(static_cast<uint64_t>(seed) * 31 +
                                                    static_cast<uint64_t>(split) + 1);
    inputs_ = at::randn({n, dim}, generator);
    targets_ = inputs_.matmul(w) + 0.5 +
               c.get_double("noise", 0.05, mlq::Range::at_least(0)) * at::randn({n, 1}, generator);
    const int64_t corrupt_every = c.get_int("corrupt_every", 0, mlq::Range::at_least(0));
    if (split == mlq::Split::Train && corrupt_every > 0)
      for (int64_t i = corrupt_every - 1; i < n; i += corrupt_every) targets_[i] = NAN;
  }
  int64_t size() const override { return inputs_.size(0); }
  mlq::TensorMap get(int64_t index) const override {
    if (load_delay_.count() > 0) std::this_thread::sleep_for(load_delay_);
    return {{"input", inputs_[index]}, {"target", targets_[index]}};
  }

 private:
  torch::Tensor inputs_, targets_;
  std::chrono::microseconds load_delay_{0};
};

class Mlp : public mlq::Model {
 public:
  explicit Mlp(const mlq::Config& c) {
    c.check_known_keys("", {"name", "input_dim", "hidden", "dropout"});
    int64_t width = c.get_int("input_dim", 8);
    const double dropout = c.get_double("dropout", 0.0, mlq::Range::from_below(0, 1));
    for (int64_t hidden : c.get_ints("hidden", mlq::Range::at_least(1))) {
      layers_->push_back(torch::nn::Linear(width, hidden));
      layers_->push_back(torch::nn::ReLU());
      if (dropout > 0) layers_->push_back(torch::nn::Dropout(dropout));
      width = hidden;
    }
    layers_->push_back(torch::nn::Linear(width, 1));
    register_module("layers", layers_);
  }
  mlq::TensorMap forward(const mlq::TensorMap& batch) override {
    return {{"prediction", layers_->forward(batch.at("input"))}};
  }

 private:
  torch::nn::Sequential layers_;
};

// Mean squared error and R^2 over the whole split.
class RegressionMetrics : public mlq::Metric {
 public:
  void reset() override { errors_.clear(), targets_.clear(); }
  void update(const mlq::TensorMap& outputs, const mlq::TensorMap& batch) override {
    errors_.push_back((outputs.at("prediction") - batch.at("target")).detach().cpu());
    targets_.push_back(batch.at("target").detach().cpu());
  }
  mlq::Scalars compute() const override {
    if (errors_.empty()) return {};
    torch::Tensor errors = torch::cat(errors_), targets = torch::cat(targets_);
    const double mse = errors.pow(2).mean().item<double>();
    const double variance = (targets - targets.mean()).pow(2).mean().item<double>();
    return {{"mse", mse}, {"r2", variance > 0 ? 1.0 - mse / variance : 0.0}};
  }

 private:
  std::vector<torch::Tensor> errors_, targets_;
};

// An example callback, turned on by `[callbacks] names = ["hook_log"]`: appends "<hook> <step>"
// to the file [callbacks.hook_log] path for every hook it receives (rank 0), and with
// stop_at_step = N asks the trainer to stop after step N.
class HookLog : public mlq::Callback {
 public:
  explicit HookLog(const mlq::Config& c)
      : path_(c.get_string("path")),
        stop_at_step_(c.get_int("stop_at_step", 0, mlq::Range::at_least(0))) {
    c.check_known_keys("", {"path", "stop_at_step"});
  }
  std::string name() const override { return "hook_log"; }
  void on_train_start(mlq::Trainer& t) override { log(t, "train_start"); }
  void on_train_batch_end(mlq::Trainer& t, const mlq::StepInfo& info) override {
    log(t, "train_batch_end");
    if (stop_at_step_ > 0 && info.step >= stop_at_step_)
      t.request_stop("hook_log: stop_at_step = " + std::to_string(stop_at_step_));
  }
  void on_train_epoch_end(mlq::Trainer& t) override { log(t, "train_epoch_end"); }
  void on_validation_end(mlq::Trainer& t, const mlq::Scalars&) override {
    log(t, "validation_end");
  }
  void on_test_end(mlq::Trainer& t, const mlq::Scalars&) override { log(t, "test_end"); }
  void on_train_end(mlq::Trainer& t) override { log(t, "train_end"); }

 private:
  void log(mlq::Trainer& trainer, const char* hook) const {
    if (!trainer.is_global_zero()) return;
    std::ofstream(path_, std::ios::app) << hook << ' ' << trainer.step() << '\n';
  }
  std::string path_;
  int64_t stop_at_step_;
};

}  // namespace

namespace {

// A metadata format of our own for the preprocess hook: lines of "split audio [label]".
std::vector<mlq::MetadataItem> read_split_list(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw mlq::UserError(file.string() + ": cannot read");
  std::vector<mlq::MetadataItem> items;
  mlq::MetadataItem item;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    item = {};
    if (words >> item.split >> item.audio) {
      words >> item.label;
      items.push_back(item);
    }
  }
  return items;
}

}  // namespace

void mlq_register(mlq::Registry& registry) {
  mlq::register_task(registry, "regression",
                     [] { return std::make_shared<mlq::SupervisedTask>(); });
  mlq::register_model(registry, "mlp",
                      [](const mlq::Config& c) { return std::make_shared<Mlp>(c); });
  mlq::register_dataset(registry, "linear", [](const mlq::Config& c, mlq::Split split) {
    return std::make_shared<LinearData>(c, split);
  });
  mlq::register_loss(registry, "mse", [](const mlq::Config&) -> mlq::LossFn {
    return [](const mlq::TensorMap& outputs, const mlq::TensorMap& batch) {
      return torch::mse_loss(outputs.at("prediction"), batch.at("target"));
    };
  });
  mlq::register_metric(registry, "regression",
                       [](const mlq::Config&) { return std::make_unique<RegressionMetrics>(); },
                       {{"mse", true}, {"r2", false}});
  mlq::register_metadata_parser(registry, "split_list", read_split_list);
  mlq::register_callback(registry, "hook_log",
                         [](const mlq::Config& c) { return std::make_shared<HookLog>(c); });
}
