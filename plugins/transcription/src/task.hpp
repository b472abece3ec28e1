#pragma once
// The transcription task: data made and preprocessed on first use, features computed in the
// loader threads, note metrics on whole pieces (segments stitched, post-processed, scored with
// mir_eval's definitions against the pieces' MIDI).
#include <map>
#include <memory>

#include "data/piano_dataset.hpp"
#include "eval/pitch_ensemble.hpp"
#include "eval/postprocess.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

// [postprocess] thresholds over the reference's defaults, at [data]'s frame rate.
PostprocessOptions postprocess_options(const Config& config);

class TranscriptionTask : public SupervisedTask {
 public:
  void setup(const Config& config, const Registry& registry) override;
  std::shared_ptr<Dataset> dataset(Split split) override;
  // Features (and, for training, [augment]: `chain` on the audio before them,
  // `spectrogram_chain` on the features after) in the loader threads.
  BatchTransform batch_transform(Split split) override;
  // Validation, which picks the checkpoint, runs the model once; test runs [inference]'s
  // pitch-shift ensemble too, as `runner predict` does.
  void validation_step(const TensorMap& batch) override { evaluate(batch, PitchEnsemble{}); }
  Scalars validation_epoch_end() override { return finish(Split::Validation); }
  void test_step(const TensorMap& batch) override { evaluate(batch, ensemble_); }
  Scalars test_epoch_end() override { return finish(Split::Test); }
  // The first validation example's audio (up to 10 s) and a piano roll of the reference and
  // predicted notes during it.
  EvaluationMedia validation_media() override;
  // Excerpts of the first test piece of each timbre: piano roll, input audio, the prediction
  // rendered with the data set's first soundfont, and the predicted MIDI (evaluation_media.hpp).
  EvaluationMedia test_media() override;

 private:
  void prepare_data();
  // Keeps the model's outputs of each piece's segments for finish().
  void evaluate(const TensorMap& batch, const PitchEnsemble& ensemble);
  Scalars finish(Split split);

  Config config_;
  FeatureOptions features_;
  PostprocessOptions postprocess_;
  PitchEnsemble ensemble_;
  PianoDataOptions data_;
  bool data_ready_ = false;
  std::map<Split, std::shared_ptr<PianoDataset>> datasets_;
  std::shared_ptr<BatchAugmentation> spectrogram_augmentation_;
  // Model outputs of the pieces being evaluated: piece -> start frame -> output -> [frames, 88].
  std::map<int64_t, std::map<int64_t, TensorMap>> pieces_;
  // The notes predicted for each piece at the last evaluation, for the media.
  std::map<int64_t, std::vector<Note>> evaluated_notes_;
};

}  // namespace mlq::transcription
