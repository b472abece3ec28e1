#include "task.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "data/families.hpp"
#include "data/synth.hpp"
#include "eval/confusion_image.hpp"
#include "mlq/synth/eval_renderings.hpp"
#include "models/classifier.hpp"

namespace mlq::classification {
namespace {

constexpr double kMediaSeconds = 10;
constexpr int kMisclassifiedClips = 8;

void add_confusion(const Scores& scores, const std::vector<std::string>& classes,
                   const std::string& tag, EvaluationMedia& media) {
  if (scores.clips == 0) return;
  const Picture picture = confusion_picture(scores.confusion, classes);
  media.images.push_back({tag, encode_png_rgb(picture.rgb.data(), picture.width, picture.height),
                          picture.width, picture.height});
  media.files.push_back({tag + ".csv", confusion_csv(scores.confusion, classes)});
}

}  // namespace

std::shared_ptr<Model> build_model(const Config& config, const std::vector<std::string>& classes,
                                   const Registry& registry) {
  Config model_config = config.section("model");
  if (const toml::node* features = config.table().get("features"))
    model_config.set("features", *features, "[features]");
  model_config.set("classes", toml::value<int64_t>(static_cast<int64_t>(classes.size())),
                   "the data's classes");
  auto model =
      registry.factory<ModelFactory>("models", model_config.get_string("name"))(model_config);
  if (auto classifier = std::dynamic_pointer_cast<Classifier>(model))
    classifier->set_class_names(classes);
  return model;
}

void ClassificationTask::setup(const Config& config, const Registry& registry) {
  config_ = config;
  registry_ = &registry;
  features_ = FeatureOptions::from(config.section("features"));
  data_config_ = config.section("data");
  data_ = ClipDataOptions::from(data_config_);
  // The classes: the synthetic families, else what the (preprocessed) data set has.
  if (data_config_.has("synth")) {
    for (const Family& family : nsynth_families()) classes_.push_back(family.name);
  } else {
    prepare_data();
    classes_ = index_classes(data_.root / "index.csv");
  }
  model_ = build_model(config, classes_, registry);
  const Config loss_config = config.section("loss");
  loss_ = registry.factory<LossFactory>("losses", loss_config.get_string("name"))(loss_config);
  // The clip metric always; others the config names as well.
  const Config metrics_config = config.section("metrics");
  auto clip_metrics =
      std::make_unique<ClipMetrics>(metrics_config.section("classification"), classes_);
  clip_metrics_ = clip_metrics.get();
  metrics_.push_back(std::move(clip_metrics));
  for (const std::string& name : metrics_config.has("names") ? metrics_config.get_strings("names")
                                                             : std::vector<std::string>{})
    if (name != "classification")
      metrics_.push_back(
          registry.factory<MetricFactory>("metrics", name)(metrics_config.section(name)));
  augmentation_ = std::make_shared<BatchAugmentation>(config.section("augment"), registry);
  spectrogram_augmentation_ = spectrogram_augmentation(config, registry);
}

void ClassificationTask::prepare_data() {
  if (data_ready_) return;
  std::optional<SynthOptions> synth;
  if (data_config_.has("synth")) {
    synth = SynthOptions::from(data_config_.section("synth"));
    const SynthReport report = synthesize(*synth);
    if (report.rendered > 0)
      log::info("{}", describe_synth(report, "clips", synth->destination_path / synth->metadata));
  }
  if (data_config_.has("preprocess")) {
    const PreprocessOptions options = PreprocessOptions::from(data_config_.section("preprocess"));
    const MetadataParser parser = options.metadata.empty()
                                      ? MetadataParser{}
                                      : metadata_parser(*registry_, options.metadata_format);
    preprocess_or_fail(options, parser);
    // The test clips rendered with the evaluation soundfonts, each into a folder of its own.
    if (synth)
      data_.unseen_roots =
          preprocess_eval_renderings(synth->metadata, synth->eval_soundfonts, options, parser);
  }
  data_ready_ = true;
}

std::shared_ptr<Dataset> ClassificationTask::dataset(Split split) {
  prepare_data();
  auto& dataset = datasets_[split];
  if (!dataset) dataset = std::make_shared<ClipDataset>(data_, split, classes_);
  return dataset->size() > 0 ? dataset : nullptr;
}

BatchTransform ClassificationTask::batch_transform(Split split) {
  const bool train = split == Split::Train;
  return feature_transform(features_, train ? augmentation_ : nullptr,
                           train ? spectrogram_augmentation_ : nullptr);
}

void ClassificationTask::validation_step(const TensorMap& batch) {
  const TensorMap outputs = model_->forward(batch);
  loss_sum_ += loss_(outputs, batch).item<double>();
  ++loss_count_;
  for (auto& metric : metrics_) metric->update(outputs, batch);
}

Scalars ClassificationTask::finish(Split split) {
  evaluated_ = split;
  evaluated_clips_ = clip_metrics_->clips();
  seen_scores_ = clip_metrics_->scores(false);
  unseen_scores_ = clip_metrics_->scores(true);
  return SupervisedTask::validation_epoch_end();  // the loss and metrics, then resets them
}

EvaluationMedia ClassificationTask::validation_media() {
  EvaluationMedia media;
  add_confusion(seen_scores_, classes_, "confusion_matrix", media);
  media.files.clear();  // TensorBoard shows images and audio only
  return media;
}

EvaluationMedia ClassificationTask::test_media() {
  EvaluationMedia media;
  add_confusion(seen_scores_, classes_, "confusion_matrix", media);
  add_confusion(unseen_scores_, classes_, "unseen_confusion_matrix", media);
  const auto found = datasets_.find(evaluated_);
  if (found == datasets_.end() || !found->second) return media;
  const ClipDataset& data = *found->second;
  const int sample_rate = static_cast<int>(features_.sample_rate);
  int shown = 0, shown_of[2] = {0, 0};  // seen, unseen: half the clips for each
  for (const ClipMetrics::Clip& clip : evaluated_clips_) {
    const auto classes = static_cast<int64_t>(classes_.size());
    const int64_t predicted = top_classes(clip.probabilities.data(), classes, 1).front();
    if (predicted == clip.label || clip.id >= data.clips() ||
        shown_of[clip.unseen] == kMisclassifiedClips / 2)
      continue;
    ++shown_of[clip.unseen];
    const NpyFile audio(data.audio(clip.id));
    const int64_t frames =
        std::min<int64_t>(audio.size(), std::llround(kMediaSeconds * sample_rate));
    if (frames <= 0) continue;
    const std::string tag =
        fmt::format("misclassified-{}-{}{}-as-{}", ++shown, clip.unseen ? "unseen-" : "",
                    metric_key_part(classes_[clip.label]), metric_key_part(classes_[predicted]));
    media.audio.push_back(
        {tag, encode_wav_pcm16(audio.floats(), static_cast<size_t>(frames), sample_rate),
         sample_rate, frames});
    if (shown == kMisclassifiedClips) break;
  }
  return media;
}

}  // namespace mlq::classification
