#include "mlq/train/callbacks.hpp"
#include "mlq/util/duration.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "mlq/tracking/metric_direction.hpp"
#include "mlq/train/trainer.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/progress.hpp"

namespace mlq {
namespace fs = std::filesystem;

bool is_improvement(const std::string& mode, double candidate, double best, double min_delta) {
  return mode == "max" ? candidate > best + min_delta : candidate < best - min_delta;
}

namespace {

// The mode of a monitor: as configured, else the monitored metric's direction.
std::string checked_mode(const Config& config, const std::string& section,
                         const MetricDirections& directions) {
  std::string mode =
      config.get_string("mode", directions.mode(config.get_string("monitor", "val_loss")));
  if (mode != "min" && mode != "max")
    throw ConfigError("config key '" + section + ".mode' (" + config.origin("mode") +
                      "): expected \"min\" or \"max\", got \"" + mode + "\"");
  return mode;
}

}  // namespace

CheckpointCallback::CheckpointCallback(const Config& config, const MetricDirections& directions)
    : monitor_(config.get_string("monitor", "val_loss")),
      mode_(checked_mode(config, "trainer.checkpoint", directions)),
      save_top_k_(config.get_int("save_top_k", 1, Range::at_least(0))),
      save_last_(config.get_bool("save_last", true)),
      every_n_steps_(config.get_int("every_n_steps", 0, Range::at_least(0))) {
  config.check_known_keys("", {"monitor", "mode", "save_top_k", "save_last", "every_n_steps"});
}

void CheckpointCallback::save_last(Trainer& trainer) {
  if (!trainer.run() || !trainer.is_global_zero() || !save_last_) return;
  trainer.save_checkpoint(trainer.run()->checkpoints_dir() / "last.pt");
}

void CheckpointCallback::on_train_batch_end(Trainer& trainer, const StepInfo& info) {
  if (every_n_steps_ > 0 && info.step % every_n_steps_ == 0) save_last(trainer);
}

void CheckpointCallback::on_validation_end(Trainer& trainer, const Scalars& metrics) {
  if (!trainer.run() || !trainer.is_global_zero()) return;
  auto it = metrics.find(monitor_);
  if (it != metrics.end() && !std::isfinite(it->second)) {
    log::warn("checkpoint: {} is {} at step {}; not a candidate for the best checkpoint", monitor_,
              it->second, trainer.step());
  } else if (it != metrics.end() && save_top_k_ > 0) {
    const double score = it->second;
    const bool qualifies = static_cast<int64_t>(kept_.size()) < save_top_k_ ||
                           is_improvement(mode_, score, kept_.back().score, 0.0);
    if (qualifies) {
      fs::path path = trainer.run()->checkpoints_dir() /
                      fmt::format("step={:06}-{}={:.6g}.pt", trainer.step(), monitor_, score);
      trainer.save_checkpoint(path);
      kept_.push_back({score, path.string()});
      std::stable_sort(kept_.begin(), kept_.end(), [&](const Kept& a, const Kept& b) {
        return is_improvement(mode_, a.score, b.score, 0.0);
      });
      while (static_cast<int64_t>(kept_.size()) > save_top_k_) {
        std::error_code ignored;
        fs::remove(kept_.back().path, ignored);
        kept_.pop_back();
      }
      trainer.run()->set_best_checkpoint(kept_.front().path);
    }
  } else if (it == metrics.end() && save_top_k_ > 0 && !metrics.empty()) {
    log::warn("checkpoint: monitored metric '{}' is not among the validation metrics", monitor_);
  }
  save_last(trainer);
}

void CheckpointCallback::on_train_end(Trainer& trainer) {
  save_last(trainer);
  if (trainer.run() && trainer.is_global_zero() && kept_.empty() && save_last_)
    trainer.run()->set_best_checkpoint((trainer.run()->checkpoints_dir() / "last.pt").string());
}

std::string CheckpointCallback::state() const {
  std::string text;
  for (const auto& kept : kept_) text += fmt::format("{:.17g}\t{}\n", kept.score, kept.path);
  return text;
}

void CheckpointCallback::load_state(const std::string& state) {
  kept_.clear();
  std::istringstream in(state);
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    kept_.push_back({std::stod(line.substr(0, tab)), line.substr(tab + 1)});
  }
}

EarlyStopping::EarlyStopping(const Config& config, const MetricDirections& directions)
    : monitor_(config.get_string("monitor", "val_loss")),
      mode_(checked_mode(config, "trainer.early_stopping", directions)),
      patience_(config.get_int("patience", 3, Range::at_least(0))),
      min_delta_(config.get_double("min_delta", 0.0, Range::at_least(0))) {
  config.check_known_keys("", {"enabled", "monitor", "mode", "patience", "min_delta"});
}

void EarlyStopping::on_validation_end(Trainer& trainer, const Scalars& metrics) {
  auto it = metrics.find(monitor_);
  if (it == metrics.end()) return;
  if (!std::isfinite(it->second)) {  // counts as no improvement; never becomes the best
    if (++bad_validations_ >= patience_)
      trainer.request_stop(fmt::format("early stopping: {} is {}", monitor_, it->second));
    return;
  }
  if (!has_best_ || is_improvement(mode_, it->second, best_, min_delta_)) {
    best_ = it->second;
    has_best_ = true;
    bad_validations_ = 0;
    return;
  }
  if (++bad_validations_ >= patience_)
    trainer.request_stop(
        fmt::format("early stopping: {} did not improve for {} validations "
                    "(best {:.6g})",
                    monitor_, bad_validations_, best_));
}

std::string EarlyStopping::state() const {
  return fmt::format("{:.17g} {} {}", best_, has_best_ ? 1 : 0, bad_validations_);
}

void EarlyStopping::load_state(const std::string& state) {
  std::istringstream in(state);
  int has_best = 0;
  in >> best_ >> has_best >> bad_validations_;
  has_best_ = has_best != 0;
}

void LrMonitor::on_train_batch_end(Trainer& trainer, const StepInfo& info) {
  if (info.step % trainer.options().log_every_n_steps == 0) trainer.log_metric("lr", info.lr);
}

ProgressBar::ProgressBar() : terminal_(isatty(STDOUT_FILENO) == 1) {}

void ProgressBar::on_train_start(Trainer& trainer) {
  start_step_ = trainer.step();
  recent_.clear();
  last_print_ = std::chrono::steady_clock::now() - std::chrono::hours(1);
}

void ProgressBar::on_train_batch_end(Trainer& trainer, const StepInfo& info) {
  if (!trainer.is_global_zero()) return;
  recent_.emplace_back(info.seconds, info.samples);
  if (recent_.size() > 50) recent_.pop_front();
  const auto now = std::chrono::steady_clock::now();
  const int64_t total = trainer.total_steps();
  const bool last = info.step >= total;
  if (terminal_ ? (now - last_print_ < std::chrono::milliseconds(200) && !last)
                : (info.step % trainer.options().log_every_n_steps != 0 && !last))
    return;
  last_print_ = now;
  double seconds = 0;
  int64_t samples = 0;
  for (const auto& [s, n] : recent_) {
    seconds += s;
    samples += n;
  }
  const double step_seconds = seconds / static_cast<double>(recent_.size());
  const std::string line = fmt::format(
      "step {}/{} | epoch {} | loss {:.4g} | lr {:.3g} | {:.1f} samples/s | eta {}", info.step,
      total, trainer.epoch(), info.loss, info.lr, seconds > 0 ? samples / seconds : 0.0,
      format_duration(step_seconds * static_cast<double>(std::max<int64_t>(0, total - info.step)),
                      DurationStyle::Clock));
  if (terminal_)
    std::printf("\r\033[K%s", line.c_str());
  else
    std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void ProgressBar::on_validation_end(Trainer& trainer, const Scalars& metrics) {
  if (!trainer.is_global_zero() || metrics.empty()) return;
  std::string line = fmt::format("validation at step {}:", trainer.step());
  for (const auto& [key, value] : metrics) line += fmt::format(" {} {:.4g}", key, value);
  std::printf(terminal_ ? "\r\033[K%s\n" : "%s\n", line.c_str());
  std::fflush(stdout);
}

void ProgressBar::on_train_end(Trainer& trainer) {
  if (terminal_ && trainer.is_global_zero()) std::printf("\n");
}

}  // namespace mlq
