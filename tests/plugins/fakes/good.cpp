// A valid plugin without LibTorch code: registers placeholder factories.
#include "mlq/plugin/api.hpp"

MLQ_PLUGIN("fake_good", "1.2.3", "fake_task")

void mlq_register(mlq::Registry& registry) {
  registry.add("tasks", "fake_task", std::any(1));
  registry.add("models", "fake_model", std::any(2));
  registry.add("metrics", "fake_metric", std::any(3));
}
