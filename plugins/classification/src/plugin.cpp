// libmlq_classification.so: audio clip -> one of N classes (instrument families on the embedded
// synthetic data; any folder-per-class or CSV-listed data set, ESC-50's folds included).
#include "mlq/plugin.hpp"
#include "commands/commands.hpp"
#include "data/class_csv.hpp"
#include "eval/clip_metrics.hpp"
#include "models/bc_resnet.hpp"
#include "models/panns_cnn.hpp"
#include "task.hpp"
#include "train/losses.hpp"
#include "train/mixup.hpp"

MLQ_PLUGIN("classification", "0.1.0", "classification")

void mlq_register(mlq::Registry& registry) {
  using namespace mlq::classification;
  mlq::register_task(registry, "classification",
                     [] { return std::make_shared<ClassificationTask>(); });
  mlq::register_model(registry, "bc_resnet", [](const mlq::Config& c) {
    return std::make_shared<BcResNet>(c, mlq::FeatureOptions::from(c.section("features")));
  });
  mlq::register_model(registry, "panns_cnn6", [](const mlq::Config& c) {
    return std::make_shared<PannsCnn>(c, mlq::FeatureOptions::from(c.section("features")), false);
  });
  mlq::register_model(registry, "panns_cnn10", [](const mlq::Config& c) {
    return std::make_shared<PannsCnn>(c, mlq::FeatureOptions::from(c.section("features")), true);
  });
  mlq::register_loss(registry, "soft_cross_entropy", cross_entropy);
  mlq::register_metric(
      registry, "classification",
      [](const mlq::Config& c) {
        return std::make_unique<ClipMetrics>(c, std::vector<std::string>{});
      },
      clip_metric_keys());
  mlq::register_augmentation(registry, "mixup", make_mixup);
  mlq::register_metadata_parser(registry, "class_csv", class_csv_items);
  mlq::register_command(
      registry, "classification", "synth",
      {"render the synthetic instrument-family data set ([data.synth])", synth_command});
  mlq::register_command(
      registry, "classification", "predict",
      {"classify audio files with a checkpoint (top-k per file and window)", predict_command});
}
