#include "mlq/train/trainer.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "callbacks/sweep_pruning.hpp"
#include "loggers/metric_log.hpp"
#include "mlq/train/callbacks.hpp"
#include "mlq/train/components.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/text.hpp"
#include "strategy/precision.hpp"
#include "strategy/strategy.hpp"
#include "trainer/weight_average.hpp"

namespace mlq {
namespace {

TensorMap to_device(const TensorMap& batch, const torch::Device& device) {
  if (device.is_cpu()) return batch;
  TensorMap moved;
  for (const auto& [key, tensor] : batch) moved[key] = tensor.to(device, /*non_blocking=*/true);
  return moved;
}

int64_t batch_size_of(const TensorMap& batch) {
  return batch.empty() ? 0 : batch.begin()->second.size(0);
}

}  // namespace

Trainer::Trainer(const Config& config, Task& task, Run* run, int rank, int world_size)
    : config_(config),
      options_(TrainerOptions::from(config.section("trainer"))),
      task_(task),
      run_(run),
      strategy_(make_strategy(options_, rank, world_size)) {}

Trainer::~Trainer() = default;

void Trainer::add_callback(std::shared_ptr<Callback> callback) {
  // The checkpoint callback runs last, so last.pt holds every other callback's updated state.
  auto position = std::find_if(callbacks_.begin(), callbacks_.end(),
                               [](const auto& c) { return c->name() == "checkpoint"; });
  callbacks_.insert(position, std::move(callback));
}

void Trainer::add_default_callbacks(const Registry* registry) {
  const MetricDirections directions = metric_directions(config_, registry);
  callbacks_.push_back(
      std::make_shared<CheckpointCallback>(config_.section("trainer.checkpoint"), directions));
  const Config early = config_.section("trainer.early_stopping");
  if (early.get_bool("enabled", false))
    add_callback(std::make_shared<EarlyStopping>(early, directions));
  add_callback(std::make_shared<LrMonitor>());
  if (options_.progress_bar) add_callback(std::make_shared<ProgressBar>());
  if (config_.has("sweep.pruning.min_steps"))
    add_callback(make_sweep_pruning(config_.section("sweep")));
}

void Trainer::add_configured_callbacks(const Registry& registry) {
  const Config section = config_.section("callbacks");
  if (section.keys().empty()) return;
  const std::vector<std::string> names = section.get_strings("names");
  std::vector<std::string> known{"names"};
  known.insert(known.end(), names.begin(), names.end());
  section.check_known_keys("", known);
  for (const std::string& name : names) {
    if (!registry.contains("callbacks", name)) {
      const std::vector<std::string> registered = registry.names("callbacks");
      const std::string near = nearest(name, registered);
      throw ConfigError(fmt::format(
          "config key 'callbacks.names' ({}): no plugin registers a callback '{}' (registered: "
          "{}){}{}",
          section.origin("names"), name,
          registered.empty() ? "none" : fmt::format("{}", fmt::join(registered, ", ")),
          near.empty() ? "" : "; did you mean '" + near + "'?", registry.refused_note()));
    }
    add_callback(registry.factory<CallbackFactory>("callbacks", name)(section.section(name)));
  }
}

std::vector<std::string> Trainer::callback_names() const {
  std::vector<std::string> names;
  for (const auto& callback : callbacks_) names.push_back(callback->name());
  return names;
}

template <class Hook>
void Trainer::each_callback(Hook&& hook) {
  for (auto& callback : callbacks_) hook(*callback);
}

bool Trainer::is_global_zero() const {
  return strategy_->is_global_zero();
}

double Trainer::lr() const {
  return optimizer_ ? optimizer_->param_groups().front().options().get_lr() : 0.0;
}

int64_t Trainer::total_steps() const {
  if (options_.max_steps > 0) return options_.max_steps;
  const int64_t per_epoch = loader_ ? loader_->batches_per_epoch() : 0;
  return options_.max_epochs * per_epoch / options_.accumulate_grad_batches;
}

void Trainer::request_stop(const std::string& reason) {
  if (stop_reason_.empty()) stop_reason_ = reason;
}

void Trainer::log_metric(const std::string& key, double value) {
  if (metric_log_) metric_log_->add(key, step_, value);
}

void Trainer::flush_metrics() {
  if (metric_log_) metric_log_->flush();
}

void Trainer::log_run_end(bool success) {
  if (metric_log_) metric_log_->run_end(success);
}

void Trainer::setup() {
  if (is_setup_) return;
  if (options_.threads > 0) torch::set_num_threads(static_cast<int>(options_.threads));
  torch::manual_seed(static_cast<uint64_t>(options_.seed));
  if (options_.deterministic) at::globalContext().setDeterministicAlgorithms(true, false);
  model_ = task_.model();
  if (!model_) throw UserError("task '" + config_.get_string("task") + "' built no model");
  strategy_->setup(*model_);
  precision_ = resolve_precision(parse_precision(options_.precision),
                                 strategy_->device().type() == c10::DeviceType::CPU);
  if (options_.precision == "auto" && is_global_zero())
    log::info("trainer.precision = \"auto\": {}",
              precision_ == Precision::BFloat16Mixed
                  ? "bf16-mixed (the CPU has bfloat16 instructions)"
                  : "32 (bfloat16 is only chosen on a CPU with bfloat16 instructions)");
  if (options_.ema_decay > 0)
    weight_average_ = std::make_unique<WeightAverage>(*model_, options_.ema_decay);
  const Config optimizer_config = config_.section("trainer.optimizer");
  optimizer_ = make_optimizer(optimizer_config, model_->parameters());
  auto train_data = task_.dataset(Split::Train);
  if (!train_data)
    throw UserError("task '" + config_.get_string("task") + "' has no training data");
  loader_ = std::make_unique<DataLoader>(train_data, options_.batch_size, /*shuffle=*/true,
                                         static_cast<uint64_t>(options_.seed), /*drop_last=*/true,
                                         options_.num_workers, options_.prefetch_batches);
  strategy_->shard(*loader_);
  loader_->set_transform(task_.batch_transform(Split::Train));
  schedule_ = std::make_unique<LrSchedule>(config_.section("trainer.scheduler"),
                                           optimizer_config.get_double("lr", 1e-3), total_steps());
  is_setup_ = true;
  attach_run(run_);
}

void Trainer::attach_run(Run* run) {
  run_ = run;
  if (!is_setup_ || !run_ || !is_global_zero() || metric_log_) return;
  metric_log_ = std::make_unique<MetricLog>(make_run_loggers(*run_, config_, options_));
}

std::string Trainer::share_from_global_zero(const std::string& key, const std::string& value) {
  setup();
  return strategy_->share(key, value);
}

void Trainer::fit(const std::filesystem::path& resume_from_rank0) {
  setup();
  // Every rank resumes from rank 0's checkpoint file (the same path: one machine or a shared
  // file system).
  const std::filesystem::path resume_from =
      share_from_global_zero("mlq/resume", resume_from_rank0.string());
  if (!resume_from.empty()) {
    load_checkpoint(resume_from);
    strategy_->broadcast_state(*model_, /*parameters=*/true);
    strategy_->reseed(step_);  // the checkpoint holds rank 0's random state
    if (metric_log_) metric_log_->truncate_after(step_);
    log::info("resumed from {} at step {}", resume_from.string(), step_);
  }
  try {
    each_callback([&](Callback& c) { c.on_train_start(*this); });
    while (!stop_requested()) {
      if (options_.max_steps > 0 && step_ >= options_.max_steps) break;
      if (options_.max_epochs > 0 && epoch() >= options_.max_epochs) break;
      if (strategy_->stop_signalled()) {  // all ranks stop at the same step
        interrupted_ = true;
        request_stop("interrupted by a signal");
        break;
      }
      train_one_step();
    }
    each_callback([&](Callback& c) { c.on_train_end(*this); });
    flush_metrics();
  } catch (const std::exception& e) {
    each_callback([&](Callback& c) { c.on_exception(*this, e); });
    flush_metrics();
    throw;
  }
  strategy_->log_throughput(throughput_);
  strategy_->after_fit(*model_, step_);
  if (interrupted_ || stop_signal_received())
    throw Interrupted("interrupted at step " + std::to_string(step_));
  if (stop_requested()) log::info("stopped at step {}: {}", step_, stop_reason_);
}

void Trainer::end_epoch() {
  const int64_t finished_epoch = loader_->position().epoch;
  loader_->start_next_epoch();
  after_epoch(finished_epoch);
}

void Trainer::after_epoch(int64_t finished_epoch) {
  each_callback([&](Callback& c) { c.on_train_epoch_end(*this); });
  if (options_.val_every_n_steps == 0 && options_.val_every_n_epochs > 0 &&
      (finished_epoch + 1) % options_.val_every_n_epochs == 0)
    validate();
}

void Trainer::train_one_step() {
  const auto start = std::chrono::steady_clock::now();
  if (loader_->epoch_done()) {
    end_epoch();
    if (options_.max_epochs > 0 && epoch() >= options_.max_epochs) return;
  }
  model_->train();
  strategy_->broadcast_state(*model_, /*parameters=*/false);  // BatchNorm statistics, as DDP
  optimizer_->zero_grad();
  double loss_sum = 0;
  int64_t samples = 0;
  Scalars logs;
  int64_t ended_epoch = -1;
  for (int64_t micro = 0; micro < options_.accumulate_grad_batches; ++micro) {
    if (loader_->epoch_done()) {  // an epoch ending inside an accumulation rolls over
      const int64_t finished = loader_->position().epoch;
      if (options_.max_epochs > 0 && finished + 1 >= options_.max_epochs) break;
      ended_epoch = finished;
      loader_->start_next_epoch();
    }
    TensorMap batch = to_device(loader_->next(), strategy_->device());
    torch::Tensor loss;
    {
      AutocastScope autocast(precision_, strategy_->device());
      loss = task_.training_step(batch, logs);
    }
    const double value = strategy_->agree_on_loss(loss.item<double>());
    if (!std::isfinite(value)) {
      optimizer_->zero_grad();
      ++nonfinite_count_;
      log_metric("nonfinite_batches", static_cast<double>(nonfinite_count_));
      const std::string what = "non-finite training loss (" + std::to_string(value) + ") at step " +
                               std::to_string(step_ + 1);
      if (options_.nonfinite_loss == "stop")
        throw UserError(what +
                        " (trainer.nonfinite_loss = \"stop\"); lower trainer.optimizer.lr "
                        "or set trainer.gradient_clip_val");
      if (nonfinite_count_ > options_.max_nonfinite)
        throw UserError(what + ": more than trainer.max_nonfinite = " +
                        std::to_string(options_.max_nonfinite) + " batches skipped");
      log::warn("{}: batch skipped ({} so far)", what, nonfinite_count_);
      return;
    }
    if (micro + 1 == options_.accumulate_grad_batches) strategy_->before_last_backward();
    (options_.accumulate_grad_batches > 1
         ? loss / static_cast<double>(options_.accumulate_grad_batches)
         : loss)
        .backward();
    loss_sum += value;
    samples += batch_size_of(batch);
  }
  samples = strategy_->finish_backward(logs, samples);
  if (options_.gradient_clip_val > 0) {
    if (options_.gradient_clip_algorithm == "norm")
      torch::nn::utils::clip_grad_norm_(model_->parameters(), options_.gradient_clip_val);
    else
      torch::nn::utils::clip_grad_value_(model_->parameters(), options_.gradient_clip_val);
  }
  const double lr = schedule_->at(step_);
  set_learning_rate(*optimizer_, lr);
  optimizer_->step();
  if (weight_average_) weight_average_->update(*model_, step_);
  ++step_;

  StepInfo info;
  info.step = step_;
  info.loss = loss_sum / static_cast<double>(options_.accumulate_grad_batches);
  info.lr = lr;
  info.samples = samples;
  info.logs = std::move(logs);
  if (step_ % options_.log_every_n_steps == 0) {
    log_metric("train_loss", info.loss);
    for (const auto& [key, value] : info.logs) log_metric("train_" + key, value);
  }
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  throughput_.seconds += info.seconds;
  throughput_.samples += samples;
  ++throughput_.steps;
  each_callback([&](Callback& c) { c.on_train_batch_end(*this, info); });
  if (ended_epoch >= 0) after_epoch(ended_epoch);
  // The last step too: the model that training ends with is a candidate for the best checkpoint.
  const bool last_step = options_.max_steps > 0 && step_ == options_.max_steps;
  if (options_.val_every_n_steps > 0 && (step_ % options_.val_every_n_steps == 0 || last_step))
    validate();
}

Scalars Trainer::validate(Split split) {
  return evaluate(split, /*averaged=*/true);
}

Scalars Trainer::evaluate(Split split, bool averaged) {
  setup();
  auto dataset = task_.dataset(split);
  if (!dataset) return {};
  torch::NoGradGuard no_grad;
  std::optional<AveragedWeightsScope> averaged_weights;
  if (averaged) averaged_weights.emplace(weight_average_.get(), *model_);
  model_->eval();
  DataLoader loader(dataset, options_.batch_size, /*shuffle=*/false, 0, /*drop_last=*/false,
                    options_.num_workers, options_.prefetch_batches);
  loader.set_transform(task_.batch_transform(split));
  int64_t limit = loader.batches_per_epoch();
  if (split == Split::Validation && options_.limit_val_batches > 0)
    limit = std::min(limit, options_.limit_val_batches);
  strategy_->broadcast_state(*model_, /*parameters=*/false);
  for (int64_t b = 0; b < limit; ++b) {
    if (strategy_->can_abandon_evaluation() && stop_signal_received()) {
      // fit() writes last.pt and stops
      model_->train();
      return {};
    }
    if (metric_log_) metric_log_->heartbeat_if_due();  // long evaluations show the run is alive
    TensorMap batch = to_device(loader.next(), strategy_->device());
    split == Split::Test ? task_.test_step(batch) : task_.validation_step(batch);
  }
  Scalars raw = split == Split::Test ? task_.test_epoch_end() : task_.validation_epoch_end();
  strategy_->average(raw);
  const std::string prefix = split == Split::Test ? "test_" : "val_";
  Scalars metrics;
  for (const auto& [key, value] : raw) {
    metrics[prefix + key] = value;
    log_metric(prefix + key, value);
  }
  if (metric_log_ && metric_log_->wants_media(split))
    metric_log_->log_media(
        prefix, split == Split::Test ? task_.test_media() : task_.validation_media(), step_, split);
  flush_metrics();
  averaged_weights.reset();
  model_->train();
  if (split == Split::Test)
    each_callback([&](Callback& c) { c.on_test_end(*this, metrics); });
  else
    each_callback([&](Callback& c) { c.on_validation_end(*this, metrics); });
  return metrics;
}

Scalars Trainer::test(const std::filesystem::path& weights) {
  setup();
  if (!weights.empty()) load_weights(weights);  // a checkpoint's "model": the averaged weights
  return evaluate(Split::Test, /*averaged=*/weights.empty());
}

}  // namespace mlq
