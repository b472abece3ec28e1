// The entry the runner calls after loading libmlq_train lazily (see mlq/train_entry.hpp).
#include <torch/torch.h>

#include <boost/dll/alias.hpp>

#include "mlq/launch/train_entry.hpp"
#include "mlq/train/components.hpp"
#include "mlq/train/trainer.hpp"
#include "mlq/util/log.hpp"
#include "trainer/resume.hpp"

namespace mlq {

namespace {

// Tests with the run's best checkpoint (the current weights without a run).
void test(Trainer& trainer, Run* run) {
  std::filesystem::path best;
  if (run) best = run->best_checkpoint();
  best = trainer.share_from_global_zero("mlq/best", best.string());  // ranks test alike
  const Scalars metrics = trainer.test(best);
  if (stop_signal_received()) throw Interrupted("interrupted while testing");
  std::string line = "test";
  if (!best.empty()) line += " (" + best.filename().string() + ")";
  for (const auto& [key, value] : metrics) line += fmt::format(" | {} {:.4g}", key, value);
  log::info("{}", line);
}

void fit(const FitRequest& request) {
  const Config& config = *request.config;
  const std::string task_name = config.get_string("task");
  const Registry::TaskScope scope(*request.registry, task_name);
  std::shared_ptr<Task> task = request.registry->factory<TaskFactory>("tasks", task_name)();
  // LibTorch seeds its default generator at random per process: seed before the model is built
  // so that its initial weights, like everything after, follow from trainer.seed.
  torch::manual_seed(static_cast<uint64_t>(config.get_int("trainer.seed", 0)));
  install_stop_signal_handlers();
  task->setup(config, *request.registry);
  Trainer trainer(config, *task, nullptr, request.rank, request.world_size);
  trainer.add_default_callbacks(request.registry);
  trainer.add_configured_callbacks(*request.registry);
  trainer.setup();
  Run* run = nullptr;
  std::filesystem::path resume_from;
  if (RunRecording* recording = request.recording) {
    recording->manifest.emplace(recording->manifest_location);
    recording->manifest->mark_dead_runs();
    auto [opened, checkpoint] = open_or_resume_run(
        *recording->manifest, config, recording->overrides, recording->plugin_versions);
    run = &recording->run.emplace(std::move(opened));
    resume_from = checkpoint;
    if (recording->on_open) recording->on_open(*run);
  }
  trainer.attach_run(run);
  try {
    trainer.fit(resume_from);
    if (trainer.options().test_after_fit && task->dataset(Split::Test)) test(trainer, run);
  } catch (const Interrupted&) {
    throw;
  } catch (const std::exception&) {
    try {
      trainer.log_run_end(false);
    } catch (const std::exception&) {  // the run's own error is the one to report
    }
    throw;
  }
  trainer.log_run_end(true);
}

}  // namespace

void fit_entry(const FitRequest& request) {
  try {
    fit(request);
  } catch (const c10::Error& e) {
    // LibTorch's messages carry a multi-line backtrace: keep the first line of the message.
    const std::string message = e.what_without_backtrace();
    throw std::runtime_error("LibTorch: " + message.substr(0, message.find('\n')));
  }
}

}  // namespace mlq

BOOST_DLL_ALIAS(mlq::fit_entry, mlq_train_fit)
