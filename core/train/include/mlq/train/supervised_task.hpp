#pragma once
#include <vector>

#include "mlq/train/augment.hpp"
#include "mlq/train/components.hpp"

namespace mlq {

// The common case, built entirely from registries: model from [model] (name = ...), loss from
// [loss], metrics from [metrics] (names = [...]), data sets from [data] (name = ...). A plugin
// registers it under its task name, or derives from it to change a step.
class SupervisedTask : public Task {
 public:
  void setup(const Config& config, const Registry& registry) override;
  std::shared_ptr<Model> model() override { return model_; }
  std::shared_ptr<Dataset> dataset(Split split) override;
  // Training batches go through the [augment] chain, if the config has one.
  BatchTransform batch_transform(Split split) override;
  torch::Tensor training_step(const TensorMap& batch, Scalars& logs) override;
  void validation_step(const TensorMap& batch) override;
  Scalars validation_epoch_end() override;

 protected:
  std::shared_ptr<Model> model_;
  LossFn loss_;
  std::vector<std::unique_ptr<Metric>> metrics_;
  Config data_config_;
  const DatasetFactory* dataset_factory_ = nullptr;
  std::shared_ptr<BatchAugmentation> augmentation_;
  double loss_sum_ = 0;
  int64_t loss_count_ = 0;
};

}  // namespace mlq
