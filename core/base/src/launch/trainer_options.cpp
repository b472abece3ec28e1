#include "mlq/launch/trainer_options.hpp"

#include "mlq/util/cpu_features.hpp"
#include "mlq/util/error.hpp"

namespace mlq {

Precision parse_precision(const std::string& value) {
  if (value == "32" || value == "32-true") return Precision::Float32;
  if (value == "bf16-mixed") return Precision::BFloat16Mixed;
  if (value == "auto") return Precision::Auto;
  throw ConfigError("config key 'trainer.precision' = \"" + value +
                    "\": expected \"32\", \"bf16-mixed\" or \"auto\"");
}

Precision resolve_precision(Precision precision, bool on_cpu) {
  if (precision != Precision::Auto) return precision;
  return on_cpu && cpu_has_native_bfloat16() ? Precision::BFloat16Mixed : Precision::Float32;
}

TrainerOptions TrainerOptions::from(const Config& c) {
  c.check_known_keys("", {"max_steps",
                          "max_epochs",
                          "batch_size",
                          "num_workers",
                          "prefetch_batches",
                          "val_every_n_steps",
                          "val_every_n_epochs",
                          "limit_val_batches",
                          "accumulate_grad_batches",
                          "gradient_clip_val",
                          "gradient_clip_algorithm",
                          "seed",
                          "deterministic",
                          "threads",
                          "device",
                          "precision",
                          "overlap_gradient_sync",
                          "nonfinite_loss",
                          "max_nonfinite",
                          "log_every_n_steps",
                          "progress_bar",
                          "test_after_fit",
                          "tensorboard",
                          "ema_decay",
                          "resume",
                          "optimizer",
                          "scheduler",
                          "checkpoint",
                          "early_stopping"});
  TrainerOptions o;
  const Range none = Range::at_least(0), some = Range::at_least(1);
  o.max_steps = c.get_int("max_steps", o.max_steps, none);
  o.max_epochs = c.get_int("max_epochs", o.max_epochs, none);
  o.batch_size = c.get_int("batch_size", o.batch_size, some);
  o.num_workers = c.get_int("num_workers", o.num_workers, none);
  o.prefetch_batches = c.get_int("prefetch_batches", o.prefetch_batches, some);
  o.val_every_n_steps = c.get_int("val_every_n_steps", o.val_every_n_steps, none);
  o.val_every_n_epochs = c.get_int("val_every_n_epochs", o.val_every_n_epochs, none);
  o.limit_val_batches = c.get_int("limit_val_batches", o.limit_val_batches, none);
  o.accumulate_grad_batches = c.get_int("accumulate_grad_batches", o.accumulate_grad_batches, some);
  o.gradient_clip_val = c.get_double("gradient_clip_val", o.gradient_clip_val, none);
  o.gradient_clip_algorithm = c.get_string("gradient_clip_algorithm", o.gradient_clip_algorithm);
  o.seed = c.get_int("seed", o.seed);
  o.deterministic = c.get_bool("deterministic", o.deterministic);
  o.threads = c.get_int("threads", o.threads, none);
  o.device = c.get_string("device", o.device);
  o.precision = c.get_string("precision", o.precision);
  o.overlap_gradient_sync = c.get_bool("overlap_gradient_sync", o.overlap_gradient_sync);
  o.nonfinite_loss = c.get_string("nonfinite_loss", o.nonfinite_loss);
  o.max_nonfinite = c.get_int("max_nonfinite", o.max_nonfinite, none);
  o.log_every_n_steps = c.get_int("log_every_n_steps", o.log_every_n_steps, some);
  o.progress_bar = c.get_bool("progress_bar", o.progress_bar);
  o.test_after_fit = c.get_bool("test_after_fit", o.test_after_fit);
  o.tensorboard = c.get_bool("tensorboard", o.tensorboard);
  o.ema_decay = c.get_double("ema_decay", o.ema_decay, Range::from_below(0, 1));
  if (o.max_steps <= 0 && o.max_epochs <= 0)
    throw ConfigError("config keys 'trainer.max_steps' and 'trainer.max_epochs' (" +
                      c.origin("max_steps") + "): at least one must be positive");
  if (o.gradient_clip_algorithm != "norm" && o.gradient_clip_algorithm != "value")
    throw ConfigError("config key 'trainer.gradient_clip_algorithm' (" +
                      c.origin("gradient_clip_algorithm") + "): expected \"norm\" or \"value\"");
  const bool cuda_index = o.device.rfind("cuda:", 0) == 0 && o.device.size() > 5 &&
                          o.device.find_first_not_of("0123456789", 5) == std::string::npos;
  if (o.device != "cpu" && o.device != "cuda" && !cuda_index)
    throw ConfigError("config key 'trainer.device' = \"" + o.device +
                      "\": expected \"cpu\" or \"cuda\" (\"cuda:N\")");
  parse_precision(o.precision);
  if (o.nonfinite_loss != "skip" && o.nonfinite_loss != "stop")
    throw ConfigError("config key 'trainer.nonfinite_loss' (" + c.origin("nonfinite_loss") +
                      "): expected \"skip\" or \"stop\"");
  return o;
}

}  // namespace mlq
