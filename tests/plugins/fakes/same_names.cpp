// A valid plugin whose model and metric share their names with the good fake's.
#include "mlq/plugin/api.hpp"

MLQ_PLUGIN("fake_same_names", "0.1.0", "fake_other_task")

void mlq_register(mlq::Registry& registry) {
  registry.add("tasks", "fake_other_task", std::any(10));
  registry.add("models", "fake_model", std::any(20));
  registry.add("metrics", "fake_metric", std::any(30));
}
