#pragma once
#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mlq/config/tree.hpp"
#include "mlq/plugin/registry.hpp"
#include "mlq/train/evaluation.hpp"

namespace mlq {

// An example or a batch: named tensors ("input", "target", ...).
using TensorMap = std::map<std::string, torch::Tensor>;

// Runs on each collated batch in the loader's worker threads (augmentations, features): the
// batch, and a seed that depends only on the loader's seed, the epoch and the batch's index.
using BatchTransform = std::function<void(TensorMap& batch, uint64_t seed)>;

// A random-access data set. get() is called from loader threads: it must be thread-safe.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual TensorMap get(int64_t index) const = 0;
};

// A model maps named input tensors to named outputs, so losses and metrics stay generic.
class Model : public torch::nn::Module {
 public:
  virtual TensorMap forward(const TensorMap& batch) = 0;
  // Multiply-accumulates per second of input audio, for `runner summary`; 0 when unknown.
  virtual int64_t macs_per_second() const { return 0; }
};

// A metric accumulates over batches and reports one or more scalars.
class Metric {
 public:
  virtual ~Metric() = default;
  virtual void reset() = 0;
  virtual void update(const TensorMap& outputs, const TensorMap& batch) = 0;
  virtual Scalars compute() const = 0;
};

// A task is a plugin's glue (Lightning's LightningModule): it builds the model, loss, metrics and
// data from config and implements the steps. The Trainer owns everything around them.
class Task {
 public:
  virtual ~Task() = default;
  virtual void setup(const Config& config, const Registry& registry) = 0;
  virtual std::shared_ptr<Model> model() = 0;
  // nullptr when the task has no data for that split.
  virtual std::shared_ptr<Dataset> dataset(Split split) = 0;
  // What the loader of `split` does to each batch off the main thread; empty for nothing.
  virtual BatchTransform batch_transform(Split) { return {}; }
  // Returns the loss; anything put in `logs` is logged as train_<name>.
  virtual torch::Tensor training_step(const TensorMap& batch, Scalars& logs) = 0;
  // Evaluation: steps accumulate, epoch_end reports metrics (logged as val_<name>/test_<name>).
  virtual void validation_step(const TensorMap& batch) = 0;
  virtual Scalars validation_epoch_end() = 0;
  // Media of the validation that just ended, asked for after validation_epoch_end only when the
  // run writes TensorBoard files; none by default.
  virtual EvaluationMedia validation_media() { return {}; }
  // Examples of the test that just ended (asked for after test_epoch_end when there is a run);
  // none by default.
  virtual EvaluationMedia test_media() { return {}; }
  virtual void test_step(const TensorMap& batch) { validation_step(batch); }
  virtual Scalars test_epoch_end() { return validation_epoch_end(); }
  virtual TensorMap predict_step(const TensorMap& batch) { return model()->forward(batch); }
};

}  // namespace mlq
