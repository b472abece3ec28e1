#pragma once
// The boundary between the runner (no LibTorch) and libmlq_train (LibTorch), which the runner
// loads only when a command needs a model. libmlq_train exports `mlq_train_fit` (a Boost.DLL
// alias).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlq/config/tree.hpp"
#include "mlq/plugin/registry.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/run.hpp"

namespace mlq {

// Where a fit records its run. The fit opens the manifest and the run (a new one, or the one
// trainer.resume continues) once the task, model, optimiser and loaders are built, so that a bad
// value fails before a run exists; the caller finishes the run.
struct RunRecording {
  std::string manifest_location;
  std::vector<std::string> overrides;  // recorded with the run
  std::string plugin_versions;         // JSON, recorded with the run
  std::function<void(Run&)> on_open;   // right after the run opens
  std::optional<Manifest> manifest;    // set by the fit
  std::optional<Run> run;              // set by the fit
};

struct FitRequest {
  const Config* config = nullptr;
  const Registry* registry = nullptr;
  RunRecording* recording = nullptr;  // null: train without a run (nothing written)
  int rank = 0;
  int world_size = 1;
};

// Trains (and tests, when the task has test data). Throws on failure.
using TrainFitFn = void(const FitRequest&);

// `runner features`: the model-input features ([features] of the config) of one audio file,
// written as a [frames, n_mels] float32 .npy. Exported as `mlq_train_features`.
struct FeaturesRequest {
  const Config* config = nullptr;
  std::filesystem::path audio;
  std::filesystem::path output;
};
using TrainFeaturesFn = void(const FeaturesRequest&);

// `runner summary`: the task's model, its layers, trainable parameters and compute, printed.
// Exported as `mlq_train_summary`.
struct SummaryRequest {
  const Config* config = nullptr;
  const Registry* registry = nullptr;
};
using TrainSummaryFn = void(const SummaryRequest&);

// The config a checkpoint was trained with (mlq/train/checkpoint.hpp's checkpoint_config), for
// the runner to learn a checkpoint's task. Exported as `mlq_checkpoint_config`.
using CheckpointConfigFn = Config(const std::filesystem::path& checkpoint);

}  // namespace mlq
