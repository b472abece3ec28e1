#pragma once
// The [trainer] section's schema and values, checked without LibTorch so that the runner rejects a
// bad value before it creates a run (the Trainer checks them again).
#include <cstdint>
#include <string>

#include "mlq/config/tree.hpp"

namespace mlq {

// The [trainer] section, checked against this schema (unknown keys are errors).
struct TrainerOptions {
  int64_t max_steps = 1000;
  int64_t max_epochs = 0;  // 0: unlimited
  int64_t batch_size = 16;
  int64_t num_workers = 0;       // loader threads assembling batches ahead (0: on the main thread)
  int64_t prefetch_batches = 4;  // batches each loader may hold ready
  int64_t val_every_n_steps = 0;
  int64_t val_every_n_epochs = 1;
  int64_t limit_val_batches = 0;  // 0: all
  int64_t accumulate_grad_batches = 1;
  double gradient_clip_val = 0;  // 0: off
  std::string gradient_clip_algorithm = "norm";
  int64_t seed = 0;
  bool deterministic = false;
  int64_t threads = 0;  // 0: LibTorch's default
  std::string device = "cpu";
  std::string precision = "32";         // or "bf16-mixed" (autocast in training's forward pass and
                                        // loss), or "auto" (see Precision)
  bool overlap_gradient_sync = true;    // data-parallel: all-reduce buckets while backward runs
  std::string nonfinite_loss = "skip";  // "skip" the batch (counted), or "stop"
  int64_t max_nonfinite = 100;          // skipped batches tolerated before stopping
  int64_t log_every_n_steps = 10;
  bool progress_bar = true;
  bool test_after_fit = true;
  bool tensorboard = true;  // event files in <run dir>/tb/
  // Validate, test and checkpoint an exponential moving average of the weights with this decay
  // per step (0: off; 0.99-0.999 typical). Training itself goes on with the raw weights.
  double ema_decay = 0;

  static TrainerOptions from(const Config& trainer_config);
};

// trainer.precision: "32" (float32 throughout) or "bf16-mixed" (autocast: matrix products and
// convolutions in bfloat16, reductions and losses in float32; weights, gradients and optimiser
// state stay float32). "auto" is bf16-mixed on a CPU with bfloat16 instructions
// (cpu_has_native_bfloat16) and float32 elsewhere, GPUs included.
enum class Precision { Float32, BFloat16Mixed, Auto };

// A ConfigError naming trainer.precision for anything else.
Precision parse_precision(const std::string& value);

// What "auto" means for a run on the CPU (on_cpu) or on a GPU; the others stay as they are.
Precision resolve_precision(Precision precision, bool on_cpu);

}  // namespace mlq
