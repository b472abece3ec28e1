// Registers a task name the regression plugin already registers.
#include "mlq/plugin/api.hpp"

MLQ_PLUGIN("fake_duplicate", "0.1.0", "regression")

void mlq_register(mlq::Registry& registry) {
  registry.add("tasks", "regression", std::any(0));
}
