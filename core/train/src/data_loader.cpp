#include "mlq/data_loader.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "mlq/error.hpp"

namespace mlq {

const char* split_name(Split split) {
  switch (split) {
    case Split::Train:
      return "train";
    case Split::Validation:
      return "validation";
    case Split::Test:
      return "test";
  }
  return "?";
}

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size, bool shuffle,
                       uint64_t seed, bool drop_last)
    : dataset_(std::move(dataset)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      seed_(seed),
      drop_last_(drop_last) {
  if (batch_size_ <= 0)
    throw ConfigError("config key 'trainer.batch_size': expected a positive integer");
  if (dataset_->size() == 0) throw UserError("the data set is empty");
  if (drop_last_ && dataset_->size() < batch_size_)
    throw UserError("the data set has " + std::to_string(dataset_->size()) +
                    " examples, fewer than one batch of " + std::to_string(batch_size_) +
                    " (drop_last)");
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = dataset_->size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(dataset_->size());
  std::iota(order.begin(), order.end(), 0);
  if (shuffle_) {
    std::mt19937_64 generator(seed_ * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), generator);
  }
  return order;
}

TensorMap DataLoader::next() {
  if (order_epoch_ != position_.epoch) {
    order_ = epoch_order(position_.epoch);
    order_epoch_ = position_.epoch;
  }
  const int64_t begin = position_.batch * batch_size_;
  const int64_t end = std::min<int64_t>(begin + batch_size_, dataset_->size());
  std::vector<TensorMap> examples;
  examples.reserve(end - begin);
  for (int64_t i = begin; i < end; ++i) examples.push_back(dataset_->get(order_[i]));
  ++position_.batch;
  return collate(examples);
}

void DataLoader::seek(const LoaderPosition& position) {
  position_ = position;
}

TensorMap collate(const std::vector<TensorMap>& examples) {
  TensorMap batch;
  if (examples.empty()) return batch;
  for (const auto& [key, first] : examples.front()) {
    std::vector<torch::Tensor> parts;
    parts.reserve(examples.size());
    for (const auto& example : examples) parts.push_back(example.at(key));
    batch[key] = torch::stack(parts);
  }
  return batch;
}

}  // namespace mlq
