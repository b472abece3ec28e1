#pragma once
// An in-process task for Trainer tests: y = 2x + 1 learned by one linear layer, with knobs for
// the behaviours under test (a NaN batch, a constant validation metric).
#include <torch/torch.h>

#include <string>

#include "mlq/config/tree.hpp"
#include "mlq/train/components.hpp"

namespace mlq::test {

inline Config config_from(const std::string& toml_text) {
  return Config(toml::parse(toml_text), {});
}

class LineData : public Dataset {
 public:
  LineData(int64_t n, int64_t nan_at) : x_(torch::linspace(-1, 1, n).unsqueeze(1)) {
    y_ = 2 * x_ + 1;
    if (nan_at >= 0) y_[nan_at] = NAN;
  }
  int64_t size() const override { return x_.size(0); }
  TensorMap get(int64_t i) const override { return {{"input", x_[i]}, {"target", y_[i]}}; }

 private:
  torch::Tensor x_, y_;
};

class Line : public Model {
 public:
  Line() : linear_(register_module("linear", torch::nn::Linear(1, 1))) {}
  TensorMap forward(const TensorMap& batch) override {
    return {{"prediction", linear_->forward(batch.at("input"))}};
  }
  torch::nn::Linear linear_;
};

class ToyTask : public Task {
 public:
  explicit ToyTask(int64_t n = 32, int64_t nan_at = -1, bool constant_metric = false)
      : data_(std::make_shared<LineData>(n, nan_at)), constant_metric_(constant_metric) {}
  void setup(const Config&, const Registry&) override {}
  std::shared_ptr<Model> model() override { return model_; }
  std::shared_ptr<Dataset> dataset(Split) override { return data_; }
  torch::Tensor training_step(const TensorMap& batch, Scalars&) override {
    ++training_steps;
    const torch::Tensor prediction = model_->forward(batch).at("prediction");
    training_dtype = prediction.scalar_type();
    return torch::mse_loss(prediction, batch.at("target"));
  }
  void validation_step(const TensorMap& batch) override {
    ++validation_batches;
    sum_ +=
        torch::mse_loss(model_->forward(batch).at("prediction"), batch.at("target")).item<double>();
    ++count_;
  }
  Scalars validation_epoch_end() override {
    Scalars out{{"loss", constant_metric_ ? 1.0 : sum_ / count_}};
    sum_ = 0;
    count_ = 0;
    return out;
  }

  std::shared_ptr<Line> model_ = std::make_shared<Line>();
  int64_t training_steps = 0;
  int64_t validation_batches = 0;
  torch::ScalarType training_dtype = torch::kFloat;  // the last training step's prediction's

 private:
  std::shared_ptr<LineData> data_;
  bool constant_metric_;
  double sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace mlq::test
