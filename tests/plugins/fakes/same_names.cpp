// A valid plugin whose entries share their names with other plugins': the good fake's model and
// metric, the transcription plugin's model and the regression plugin's metadata parser. Its
// factories are placeholders, so a run that picked one of them would fail.
#include "mlq/plugin/api.hpp"

MLQ_PLUGIN("fake_same_names", "0.1.0", "fake_other_task")

void mlq_register(mlq::Registry& registry) {
  registry.add("tasks", "fake_other_task", std::any(10));
  registry.add("models", "fake_model", std::any(20));
  registry.add("metrics", "fake_metric", std::any(30));
  registry.add("models", "harmonic_cnn", std::any(40));
  registry.add("metadata_parsers", "split_list", std::any(50));
}
