// The strategy of a data-parallel job (torchrun or Slurm): one process per rank on a c10d
// process group (Gloo on CPU, NCCL on GPUs), each training on its shard of the data, with
// gradients averaged by all-reduce as DDP does.
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <limits>

#include "mlq/launch/distributed_env.hpp"
#include "mlq/train/stop_signal.hpp"
#include "mlq/util/log.hpp"
#include "strategy/gradient_reducer.hpp"
#include "strategy/process_group.hpp"
#include "strategy/strategy.hpp"

namespace mlq {
namespace {

class DataParallel : public Strategy {
 public:
  DataParallel(const TrainerOptions& options, int rank, int world_size)
      : Strategy(options, rank, world_size) {}

  void setup(Model& model) override {
    const DistributedEnv env = distributed_env();
    if (device_.is_cuda() && !device_.has_index())
      device_ = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
    model.to(device_);
    group_ = std::make_unique<ProcessGroup>(rank_, world_size_, env.master_addr, env.master_port,
                                            device_);
    log::info("rank {} of {}: process group ready ({} via {}:{}, pid {})", rank_, world_size_,
              device_.is_cuda() ? "nccl" : "gloo", env.master_addr, env.master_port,
              static_cast<long>(::getpid()));
    broadcast_state(model, /*parameters=*/true);
    std::vector<torch::Tensor> trained;
    for (const auto& parameter : model.parameters())
      if (parameter.requires_grad()) trained.push_back(parameter);
    reducer_ = std::make_unique<GradientReducer>(*group_, std::move(trained), kBucketBytes,
                                                 options_.overlap_gradient_sync);
    reseed(0);
  }

  void shard(DataLoader& loader) override { loader.shard(rank_, world_size_); }

  void broadcast_state(Model& model, bool parameters) override {
    std::vector<torch::Tensor> tensors;
    if (parameters)
      for (const auto& parameter : model.parameters()) tensors.push_back(parameter);
    for (const auto& buffer : model.buffers()) tensors.push_back(buffer);
    if (!tensors.empty()) group_->broadcast(tensors);
  }

  void reseed(int64_t step) override {
    if (rank_ > 0)
      torch::manual_seed(static_cast<uint64_t>(options_.seed) + 0x9E3779B97F4A7C15ULL * rank_ +
                         static_cast<uint64_t>(step));
  }

  bool stop_signalled() override {
    torch::Tensor flag = torch::full({1}, stop_signal_received() ? 1.0 : 0.0, torch::kDouble);
    group_->all_reduce_sum(flag);
    return flag.item<double>() > 0;
  }

  // Ranks evaluate together to the end: their collectives must pair up.
  bool can_abandon_evaluation() const override { return false; }

  double agree_on_loss(double loss) override {
    const bool finite = std::isfinite(loss);
    torch::Tensor agreed = torch::tensor({finite ? loss : 0.0, finite ? 0.0 : 1.0}, torch::kDouble);
    group_->all_reduce_sum(agreed);
    return agreed[1].item<double>() > 0 ? std::numeric_limits<double>::quiet_NaN()
                                        : agreed[0].item<double>() / world_size_;
  }

  void before_last_backward() override { reducer_->arm(); }

  int64_t finish_backward(Scalars& logs, int64_t samples) override {
    sync_wait_seconds_ += reducer_->finish();
    logs["__samples"] = static_cast<double>(samples);
    average(logs);
    const int64_t total = static_cast<int64_t>(std::llround(logs["__samples"] * world_size_));
    logs.erase("__samples");
    return total;
  }

  void average(Scalars& values) override {
    if (values.empty()) return;
    torch::Tensor sums = torch::empty({static_cast<int64_t>(values.size())}, torch::kDouble);
    int64_t i = 0;
    for (const auto& [key, value] : values) sums[i++] = value;
    group_->all_reduce_sum(sums);
    i = 0;
    for (auto& [key, value] : values) value = sums[i++].item<double>() / world_size_;
  }

  std::string share(const std::string& key, const std::string& value) override {
    return group_->share(key, value);
  }

  void log_throughput(const Throughput& t) const override {
    if (t.steps == 0 || t.seconds <= 0) return;
    const double step_ms = 1000 * t.seconds / t.steps;
    const double wait_ms = 1000 * sync_wait_seconds_ / t.steps;
    log::info(
        "training: {:.2f} samples/s over {} ranks, {:.1f} ms per step; rank {} waited {:.1f} ms "
        "per step ({:.1f} %) for gradient all-reduce ({})",
        t.samples / t.seconds, world_size_, step_ms, rank_, wait_ms, 100 * wait_ms / step_ms,
        options_.overlap_gradient_sync ? "overlapping backward" : "after backward");
  }

  void after_fit(Model& model, int64_t step) override {
    log::info("rank {} parameter checksum {:016x} at step {}", rank_,
              tensor_checksum(model.parameters()), step);
  }

 private:
  std::unique_ptr<ProcessGroup> group_;
  std::unique_ptr<GradientReducer> reducer_;
  double sync_wait_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_data_parallel(const TrainerOptions& options, int rank,
                                             int world_size) {
  return std::make_unique<DataParallel>(options, rank, world_size);
}

}  // namespace mlq
