#include "mlq/train/supervised_task.hpp"

#include <torch/torch.h>

namespace mlq {

void SupervisedTask::setup(const Config& config, const Registry& registry) {
  const Config model_config = config.section("model");
  model_ = registry.factory<ModelFactory>("models", model_config.get_string("name"))(model_config);
  const Config loss_config = config.section("loss");
  loss_ = registry.factory<LossFactory>("losses", loss_config.get_string("name"))(loss_config);
  const Config metrics_config = config.section("metrics");
  // No [metrics] table (or no names): the task reports its loss only.
  const std::vector<std::string> names = metrics_config.has("names")
                                             ? metrics_config.get_strings("names")
                                             : std::vector<std::string>{};
  for (const auto& name : names)
    metrics_.push_back(
        registry.factory<MetricFactory>("metrics", name)(metrics_config.section(name)));
  data_config_ = config.section("data");
  dataset_factory_ = &registry.factory<DatasetFactory>("datasets", data_config_.get_string("name"));
  augmentation_ = std::make_shared<BatchAugmentation>(config.section("augment"), registry);
}

BatchTransform SupervisedTask::batch_transform(Split split) {
  if (split != Split::Train || !augmentation_ || augmentation_->empty()) return {};
  return [augmentation = augmentation_](TensorMap& batch, uint64_t seed) {
    augmentation->apply(batch, seed);
  };
}

std::shared_ptr<Dataset> SupervisedTask::dataset(Split split) {
  return (*dataset_factory_)(data_config_, split);
}

torch::Tensor SupervisedTask::training_step(const TensorMap& batch, Scalars&) {
  return loss_(model_->forward(batch), batch);
}

void SupervisedTask::validation_step(const TensorMap& batch) {
  TensorMap outputs = model_->forward(batch);
  loss_sum_ += loss_(outputs, batch).item<double>();
  ++loss_count_;
  for (auto& metric : metrics_) metric->update(outputs, batch);
}

Scalars SupervisedTask::validation_epoch_end() {
  Scalars result{{"loss", loss_count_ ? loss_sum_ / loss_count_ : 0.0}};
  for (auto& metric : metrics_) {
    for (const auto& [key, value] : metric->compute()) result[key] = value;
    metric->reset();
  }
  loss_sum_ = 0;
  loss_count_ = 0;
  return result;
}

}  // namespace mlq
