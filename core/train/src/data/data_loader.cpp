#include "mlq/train/data_loader.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "mlq/util/error.hpp"

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

// Batches being assembled ahead by worker threads, handed out in order.
struct DataLoader::Prefetch {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int64_t, TensorMap> ready;
  int64_t next_to_make = 0;
  bool stop = false;
  std::map<int64_t, std::exception_ptr> failed;  // raised when the caller reaches that batch
  std::vector<std::thread> threads;
};

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size, bool shuffle,
                       uint64_t seed, bool drop_last, int64_t workers, int64_t prefetch)
    : dataset_(std::move(dataset)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      seed_(seed),
      drop_last_(drop_last),
      workers_(std::max<int64_t>(0, workers)),
      prefetch_(std::max<int64_t>(1, prefetch)) {
  if (batch_size_ <= 0)
    throw ConfigError("config key 'trainer.batch_size': expected a positive integer");
  if (dataset_->size() == 0) throw UserError("the data set is empty");
  if (drop_last_ && dataset_->size() < batch_size_)
    throw UserError("the data set has " + std::to_string(dataset_->size()) +
                    " examples, fewer than one batch of " + std::to_string(batch_size_) +
                    " (drop_last)");
}

void DataLoader::shard(int rank, int world_size) {
  if (!drop_last_) throw std::logic_error("DataLoader::shard needs drop_last");
  rank_ = rank;
  world_size_ = world_size;
  if (dataset_->size() < batch_size_ * world_size_)
    throw UserError("the data set has " + std::to_string(dataset_->size()) +
                    " examples, fewer than one global batch of " + std::to_string(batch_size_) +
                    " x " + std::to_string(world_size_) + " ranks (drop_last)");
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = dataset_->size();
  const int64_t global = batch_size_ * world_size_;
  return drop_last_ ? n / global : (n + global - 1) / global;
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

DataLoader::~DataLoader() {
  stop_workers();
}

TensorMap DataLoader::make_batch(int64_t batch) const {
  const int64_t slice = batch * world_size_ + rank_;  // this rank's part of the global batch
  const int64_t begin = slice * batch_size_;
  const int64_t end = std::min<int64_t>(begin + batch_size_, dataset_->size());
  std::vector<TensorMap> examples;
  examples.reserve(end - begin);
  for (int64_t i = begin; i < end; ++i) examples.push_back(dataset_->get(order_[i]));
  TensorMap collated = collate(examples);
  if (transform_) {
    const uint64_t seed = (seed_ * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(order_epoch_)) *
                              0xBF58476D1CE4E5B9ULL +
                          static_cast<uint64_t>(slice);
    transform_(collated, seed);
  }
  return collated;
}

TensorMap DataLoader::next() {
  if (order_epoch_ != position_.epoch) {
    stop_workers();
    order_ = epoch_order(position_.epoch);
    order_epoch_ = position_.epoch;
  }
  if (workers_ == 0) return make_batch(position_.batch++);
  if (!prefetch_state_) start_workers();
  Prefetch& p = *prefetch_state_;
  std::unique_lock<std::mutex> lock(p.mutex);
  const int64_t wanted = position_.batch;
  p.changed.wait(lock, [&] { return p.ready.count(wanted) > 0 || p.failed.count(wanted) > 0; });
  if (auto failure = p.failed.find(wanted); failure != p.failed.end())
    std::rethrow_exception(failure->second);
  TensorMap batch = std::move(p.ready.at(position_.batch));
  p.ready.erase(position_.batch++);
  p.changed.notify_all();
  return batch;
}

void DataLoader::start_workers() {
  prefetch_state_ = std::make_unique<Prefetch>();
  prefetch_state_->next_to_make = position_.batch;
  for (int64_t w = 0; w < workers_; ++w) prefetch_state_->threads.emplace_back([this] { work(); });
}

void DataLoader::work() {
  Prefetch& p = *prefetch_state_;
  const int64_t batches = batches_per_epoch();
  while (true) {
    int64_t batch;
    {
      std::unique_lock<std::mutex> lock(p.mutex);
      p.changed.wait(lock, [&] {
        return p.stop || p.next_to_make >= batches || p.next_to_make < position_.batch + prefetch_;
      });
      if (p.stop || p.next_to_make >= batches) return;
      batch = p.next_to_make++;
    }
    try {
      TensorMap made = make_batch(batch);
      std::lock_guard<std::mutex> lock(p.mutex);
      p.ready.emplace(batch, std::move(made));
    } catch (...) {
      std::lock_guard<std::mutex> lock(p.mutex);
      p.failed.emplace(batch, std::current_exception());
    }
    p.changed.notify_all();
  }
}

void DataLoader::stop_workers() {
  if (!prefetch_state_) return;
  {
    std::lock_guard<std::mutex> lock(prefetch_state_->mutex);
    prefetch_state_->stop = true;
  }
  prefetch_state_->changed.notify_all();
  for (auto& thread : prefetch_state_->threads) thread.join();
  prefetch_state_.reset();
}

void DataLoader::start_next_epoch() {
  stop_workers();
  position_ = {position_.epoch + 1, 0};
}

void DataLoader::seek(const LoaderPosition& position) {
  stop_workers();
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
