#include "strategy/gradient_reducer.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "strategy/process_group.hpp"

namespace mlq {
namespace {

constexpr int64_t kFirstBucketBytes = 1024 * 1024;

int64_t bytes_of(const torch::Tensor& tensor) {
  return tensor.numel() * static_cast<int64_t>(tensor.element_size());
}

}  // namespace

GradientReducer::GradientReducer(ProcessGroup& group, std::vector<torch::Tensor> parameters,
                                 int64_t bucket_bytes, bool overlap)
    : group_(group), parameters_(std::move(parameters)), slots_(parameters_.size()) {
  int64_t filled = 0;
  for (size_t i = parameters_.size(); i-- > 0;) {
    const torch::Tensor& parameter = parameters_[i];
    const int64_t cap =
        buckets_.size() <= 1 ? std::min(kFirstBucketBytes, bucket_bytes) : bucket_bytes;
    const bool other_type =
        !buckets_.empty() &&
        parameters_[buckets_.back().parameters.front()].scalar_type() != parameter.scalar_type();
    if (buckets_.empty() || filled >= cap || other_type) {
      buckets_.emplace_back();
      filled = 0;
    }
    buckets_.back().parameters.push_back(i);
    filled += bytes_of(parameter);
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    Bucket& bucket = buckets_[b];
    int64_t offset = 0;
    for (size_t k = 0; k < bucket.parameters.size(); ++k) {
      const size_t i = bucket.parameters[k];
      slots_[i] = {b, k, offset, false};
      offset += parameters_[i].numel();
    }
    bucket.gradient_numel = offset;
    bucket.missing = bucket.parameters.size();
    const torch::Tensor& first = parameters_[bucket.parameters.front()];
    bucket.flat = torch::zeros({offset + static_cast<int64_t>(bucket.parameters.size())},
                               first.options().requires_grad(false));
  }
  if (!overlap) return;
  for (size_t i = 0; i < parameters_.size(); ++i)
    hooks_.push_back(parameters_[i].register_hook(
        [this, i](torch::Tensor gradient) { on_gradient(i, gradient); }));
}

GradientReducer::~GradientReducer() {
  for (size_t i = 0; i < hooks_.size(); ++i) parameters_[i].remove_hook(hooks_[i]);
}

void GradientReducer::arm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = true;
}

void GradientReducer::on_gradient(size_t parameter, const torch::Tensor& gradient) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_ || slots_[parameter].ready) return;
  fill(parameter, gradient);
  start_ready_buckets();
}

void GradientReducer::fill(size_t parameter, const torch::Tensor& incoming) {
  torch::NoGradGuard no_grad;
  Slot& slot = slots_[parameter];
  Bucket& bucket = buckets_[slot.bucket];
  const torch::Tensor& tensor = parameters_[parameter];
  const torch::Tensor& accumulated = tensor.grad();  // earlier micro-batches
  torch::Tensor view = bucket.flat.narrow(0, slot.offset, tensor.numel()).view(tensor.sizes());
  if (accumulated.defined() && incoming.defined())
    torch::add_out(view, accumulated, incoming);
  else if (accumulated.defined())
    view.copy_(accumulated);
  else if (incoming.defined())
    view.copy_(incoming);
  else
    view.zero_();
  const int64_t flag = bucket.gradient_numel + static_cast<int64_t>(slot.bucket_index);
  bucket.flat.narrow(0, flag, 1).fill_(accumulated.defined() || incoming.defined() ? 1 : 0);
  slot.ready = true;
  --bucket.missing;
}

void GradientReducer::start_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].missing == 0)
    start(buckets_[next_bucket_++]);
}

void GradientReducer::start(Bucket& bucket) {
  bucket.wait = group_.start_all_reduce_sum(bucket.flat);
}

double GradientReducer::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
  for (size_t i = 0; i < parameters_.size(); ++i)
    if (!slots_[i].ready) fill(i, torch::Tensor());
  start_ready_buckets();
  const auto start = std::chrono::steady_clock::now();
  for (Bucket& bucket : buckets_) bucket.wait();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  torch::NoGradGuard no_grad;
  for (Bucket& bucket : buckets_) {
    bucket.flat.div_(group_.size());
    const torch::Tensor flags =
        bucket.flat.narrow(0, bucket.gradient_numel, static_cast<int64_t>(bucket.parameters.size()))
            .to(torch::kCPU, torch::kFloat);
    const auto* any_rank_had_one = flags.data_ptr<float>();
    for (size_t k = 0; k < bucket.parameters.size(); ++k) {
      const size_t i = bucket.parameters[k];
      Slot& slot = slots_[i];
      slot.ready = false;
      if (any_rank_had_one[k] <= 0) continue;
      torch::Tensor& tensor = parameters_[i];
      const torch::Tensor mean =
          bucket.flat.narrow(0, slot.offset, tensor.numel()).view(tensor.sizes());
      if (tensor.grad().defined())
        tensor.mutable_grad().copy_(mean);
      else
        tensor.mutable_grad() = mean.clone();
    }
    bucket.missing = bucket.parameters.size();
    bucket.wait = nullptr;
  }
  next_bucket_ = 0;
  return waited;
}

}  // namespace mlq
