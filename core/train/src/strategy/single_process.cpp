// The strategy of one process: the model on trainer.device, nothing to agree with anyone.
#include <torch/torch.h>

#include "mlq/train/stop_signal.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/log.hpp"
#include "strategy/strategy.hpp"

namespace mlq {
namespace {

// trainer.device, whose form TrainerOptions checked: "cpu", "cuda" or "cuda:N".
torch::Device parse_device(const std::string& name) {
  if (name != "cpu" && !torch::cuda::is_available())
    throw ConfigError("config key 'trainer.device' = \"" + name +
                      "\": this LibTorch build has no usable CUDA device; use \"cpu\"");
  return torch::Device(name);
}

class SingleProcess : public Strategy {
 public:
  explicit SingleProcess(const TrainerOptions& options) : Strategy(options, 0, 1) {}
  void setup(Model& model) override { model.to(device_); }
};

}  // namespace

Strategy::Strategy(const TrainerOptions& options, int rank, int world_size)
    : options_(options),
      rank_(rank),
      world_size_(world_size),
      device_(parse_device(options.device)) {}

bool Strategy::stop_signalled() {
  return stop_signal_received();
}

void Strategy::log_throughput(const Throughput& t) const {
  if (t.steps == 0 || t.seconds <= 0) return;
  log::info("training: {:.2f} samples/s, {:.1f} ms per step over {} steps", t.samples / t.seconds,
            1000 * t.seconds / t.steps, t.steps);
}

std::unique_ptr<Strategy> make_strategy(const TrainerOptions& options, int rank, int world_size) {
  if (world_size > 1) return make_data_parallel(options, rank, world_size);
  return std::make_unique<SingleProcess>(options);
}

}  // namespace mlq
