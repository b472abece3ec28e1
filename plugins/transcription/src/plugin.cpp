// libmlq_transcription.so: piano transcription (audio -> MIDI) after Kong et al. 2021.
#include "mlq/plugin.hpp"
#include "commands/commands.hpp"
#include "models/crnn.hpp"
#include "models/harmonic_cnn.hpp"
#include "models/losses.hpp"
#include "task.hpp"

MLQ_PLUGIN("transcription", "0.1.0", "transcription")

void mlq_register(mlq::Registry& registry) {
  using namespace mlq::transcription;
  mlq::register_task(registry, "transcription",
                     [] { return std::make_shared<TranscriptionTask>(); });
  mlq::register_model(registry, "crnn_highres", [](const mlq::Config& c) {
    return std::make_shared<CrnnHighres>(c, mlq::FeatureOptions::from(c.section("features")));
  });
  mlq::register_model(registry, "crnn_pedal", [](const mlq::Config& c) {
    return std::make_shared<CrnnPedal>(c, mlq::FeatureOptions::from(c.section("features")));
  });
  mlq::register_model(registry, "harmonic_cnn", [](const mlq::Config& c) {
    return std::make_shared<HarmonicCnn>(c, mlq::FeatureOptions::from(c.section("features")));
  });
  mlq::register_loss(registry, "regression_bce",
                     [](const mlq::Config&) -> mlq::LossFn { return regression_bce; });
  mlq::register_loss(registry, "weighted_bce", weighted_bce);
  mlq::register_command(
      registry, "transcription", "synth",
      {"compose and render the synthetic piano data set ([data.synth])", synth_command});
  mlq::register_command(registry, "transcription", "predict",
                        {"transcribe audio files to MIDI with a checkpoint", predict_command});
  mlq::register_command(
      registry, "transcription", "score",
      {"mir_eval note and frame metrics of EST.mid against REF.mid", score_command});
}
