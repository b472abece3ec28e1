#include "task.hpp"

#include <fmt/format.h>

#include <optional>

#include "data/synth.hpp"
#include "eval/evaluation_media.hpp"
#include "eval/inference.hpp"
#include "eval/note_metrics.hpp"
#include "mlq/plugin.hpp"
#include "mlq/synth/eval_renderings.hpp"
#include "mlq/synth/soundfont_renderer.hpp"

namespace mlq::transcription {
PostprocessOptions postprocess_options(const Config& config) {
  PostprocessOptions o;
  const Config post = config.section("postprocess");
  post.check_known_keys("",
                        {"onset_threshold", "offset_threshold", "frame_threshold", "min_note_ms",
                         "pedal_threshold", "pedal_offset_threshold", "hold_notes_by_pedal"});
  const Range probability = Range::above_up_to(0, 1);
  o.onset_threshold = post.get_double("onset_threshold", o.onset_threshold, probability);
  o.offset_threshold = post.get_double("offset_threshold", o.offset_threshold, probability);
  o.frame_threshold = post.get_double("frame_threshold", o.frame_threshold, probability);
  o.min_note_seconds = post.get_double("min_note_ms", 0, Range::between(0, 60000)) / 1000;
  o.pedal_frame_threshold =
      post.get_double("pedal_threshold", o.pedal_frame_threshold, probability);
  o.pedal_offset_threshold =
      post.get_double("pedal_offset_threshold", o.pedal_offset_threshold, probability);
  o.hold_notes_by_pedal = post.get_bool("hold_notes_by_pedal", true);
  o.frames_per_second =
      static_cast<int>(config.get_int("data.frames_per_second", 100, Range::between(1, 10000)));
  return o;
}

void TranscriptionTask::setup(const Config& config, const Registry& registry) {
  config_ = config;
  features_ = FeatureOptions::from(config.section("features"));
  postprocess_ = postprocess_options(config);
  ensemble_ = PitchEnsemble::from(config, features_);
  // The model sees the features it is built for: [features] travels inside its config.
  Config model_config = config.section("model");
  if (const toml::node* features = config.table().get("features"))
    model_config.set("features", *features, "[features]");
  model_ = registry.factory<ModelFactory>("models", model_config.get_string("name"))(model_config);
  const Config loss_config = config.section("loss");
  loss_ = registry.factory<LossFactory>("losses", loss_config.get_string("name"))(loss_config);
  data_config_ = config.section("data");
  data_ = PianoDataOptions::from(data_config_);
  augmentation_ = std::make_shared<BatchAugmentation>(config.section("augment"), registry);
  spectrogram_augmentation_ = spectrogram_augmentation(config, registry);
}

void TranscriptionTask::prepare_data() {
  if (data_ready_) return;
  std::optional<SynthOptions> synth;
  if (data_config_.has("synth")) {
    synth = SynthOptions::from(data_config_.section("synth"));
    const SynthReport report = synthesize(*synth);
    if (report.rendered > 0)
      log::info("{}", describe_synth(report, "pieces", synth->destination_path / synth->metadata));
  }
  if (data_config_.has("preprocess")) {
    const PreprocessOptions options = PreprocessOptions::from(data_config_.section("preprocess"));
    preprocess_or_fail(options);
    // The test pieces rendered with the evaluation soundfonts, each into a folder of its own.
    if (synth)
      data_.unseen_roots =
          preprocess_eval_renderings(synth->metadata, synth->eval_soundfonts, options);
  }
  data_ready_ = true;
}

std::shared_ptr<Dataset> TranscriptionTask::dataset(Split split) {
  prepare_data();
  auto& dataset = datasets_[split];
  if (!dataset) dataset = std::make_shared<PianoDataset>(data_, split);
  return dataset->size() > 0 ? dataset : nullptr;
}

BatchTransform TranscriptionTask::batch_transform(Split split) {
  const bool train = split == Split::Train;
  return feature_transform(features_, train ? augmentation_ : nullptr,
                           train ? spectrogram_augmentation_ : nullptr);
}

void TranscriptionTask::evaluate(const TensorMap& batch, const PitchEnsemble& ensemble) {
  const TensorMap outputs = forward_with_ensemble(*model_, batch, ensemble);
  loss_sum_ += loss_(outputs, batch).item<double>();
  ++loss_count_;
  const torch::Tensor piece = batch.at("piece").cpu(), start = batch.at("start_frame").cpu();
  for (int64_t b = 0; b < piece.size(0); ++b) {
    TensorMap& segment = pieces_[piece[b].item<int64_t>()][start[b].item<int64_t>()];
    for (const std::string& key : decoded_outputs(outputs))
      segment[key] = outputs.at(key)[b].to(torch::kCPU);
  }
}

Scalars TranscriptionTask::finish(Split split) {
  const PianoDataset& data = *datasets_.at(split);
  const auto context_frames =
      static_cast<int64_t>(std::llround(data_.eval_context_seconds * data_.frames_per_second));
  std::vector<NoteScores> scores, unseen_scores;
  evaluated_notes_.clear();
  for (const auto& [piece, segments] : pieces_) {
    // Stitched as `runner predict` stitches its windows: each segment's frames away from its
    // edges, where the model lacks context.
    const int64_t first = segments.begin()->first;
    std::vector<int64_t> starts;
    std::map<std::string, std::vector<torch::Tensor>> parts;
    for (const auto& [start, outputs] : segments) {
      starts.push_back(start - first);
      for (const auto& [key, roll] : outputs) parts[key].push_back(roll);
    }
    std::map<std::string, torch::Tensor> rolls;
    for (const auto& [key, outputs] : parts)
      rolls[key] = stitch_windows(outputs, starts, context_frames);
    const ModelOutputs stitched = model_outputs(rolls);
    const std::vector<Note> estimated = postprocess(stitched, postprocess_).notes;
    // The reference: the piece's notes that start within what was evaluated.
    const double evaluated_until =
        static_cast<double>(first + stitched.frames) / data_.frames_per_second;
    std::vector<Note> reference;
    for (const Note& note : data.notes(piece))
      if (note.onset < evaluated_until) reference.push_back(note);
    (data.unseen(piece) ? unseen_scores : scores).push_back(score_piece(reference, estimated));
    evaluated_notes_[piece] = estimated;
  }
  pieces_.clear();
  Scalars result{{"loss", loss_count_ ? loss_sum_ / loss_count_ : 0.0}};
  auto add = [&result](const std::string& prefix, const std::vector<NoteScores>& group) {
    if (group.empty()) return;
    const NoteScores mean = mean_scores(group);
    result[prefix + "onset_f1"] = mean.onset.f1;
    result[prefix + "onset_precision"] = mean.onset.precision;
    result[prefix + "onset_recall"] = mean.onset.recall;
    result[prefix + "onset_offset_f1"] = mean.onset_offset.f1;
    result[prefix + "onset_offset_velocity_f1"] = mean.onset_offset_velocity.f1;
    result[prefix + "frame_f1"] = mean.frame.f1;
  };
  add("", scores);
  add("unseen_", unseen_scores);
  loss_sum_ = 0;
  loss_count_ = 0;
  return result;
}

EvaluationMedia TranscriptionTask::validation_media() {
  const auto found = datasets_.find(Split::Validation);
  if (found == datasets_.end() || !found->second || found->second->size() == 0) return {};
  EvaluationMedia media;
  // The first example: evaluated first, as the loader does not shuffle.
  add_excerpt(*found->second, 0, evaluated_notes_, static_cast<int>(features_.sample_rate),
              "piano_roll", "audio", media);
  return media;
}

EvaluationMedia TranscriptionTask::test_media() {
  const auto found = datasets_.find(Split::Test);
  if (found == datasets_.end() || !found->second || found->second->size() == 0) return {};
  const auto soundfonts = config_.has("data.synth.soundfonts")
                              ? config_.get_strings("data.synth.soundfonts")
                              : std::vector<std::string>{};
  return test_examples(*found->second, evaluated_notes_, static_cast<int>(features_.sample_rate),
                       soundfonts.empty() ? kDefaultSoundfont : soundfonts.front());
}

}  // namespace mlq::transcription
