#pragma once
// The classification task: audio clip -> one of N classes. Data synthesised and preprocessed on
// first use, log-mel features in the loader threads, mixup and the core's augmentations on the
// audio, SpecAugment on the features, clip-level metrics (windows averaged), and a confusion
// matrix and misclassified clips as media.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/clip_dataset.hpp"
#include "eval/clip_metrics.hpp"
#include "mlq/plugin.hpp"

namespace mlq::classification {

// The config's [model] with [features] and `classes` = the number of `classes`, built from the
// registry; a Classifier keeps the names.
std::shared_ptr<Model> build_model(const Config& config, const std::vector<std::string>& classes,
                                   const Registry& registry);

class ClassificationTask : public SupervisedTask {
 public:
  void setup(const Config& config, const Registry& registry) override;
  std::shared_ptr<Dataset> dataset(Split split) override;
  BatchTransform batch_transform(Split split) override;
  void validation_step(const TensorMap& batch) override;
  Scalars validation_epoch_end() override { return finish(Split::Validation); }
  void test_step(const TensorMap& batch) override { validation_step(batch); }
  Scalars test_epoch_end() override { return finish(Split::Test); }
  // The confusion matrix of the validation that just ended.
  EvaluationMedia validation_media() override;
  // Confusion matrices (picture and CSV) of the seen and unseen test clips, and up to
  // 8 misclassified clips as audio.
  EvaluationMedia test_media() override;

  const std::vector<std::string>& classes() const { return classes_; }
  const FeatureOptions& features() const { return features_; }

 private:
  void prepare_data();
  // Keeps what the evaluation scored for its media, then reports the loss and metrics.
  Scalars finish(Split split);

  Config config_;
  const Registry* registry_ = nullptr;
  FeatureOptions features_;
  ClipDataOptions data_;
  std::vector<std::string> classes_;
  bool data_ready_ = false;
  std::map<Split, std::shared_ptr<ClipDataset>> datasets_;
  std::shared_ptr<BatchAugmentation> spectrogram_augmentation_;
  ClipMetrics* clip_metrics_ = nullptr;  // among metrics_
  // What the last evaluation scored, for its media.
  Split evaluated_ = Split::Validation;
  std::vector<ClipMetrics::Clip> evaluated_clips_;
  Scores seen_scores_, unseen_scores_;
};

}  // namespace mlq::classification
