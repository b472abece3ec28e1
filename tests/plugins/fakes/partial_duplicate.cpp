// Registers a task, then one model name twice: fails halfway.
#include "mlq/plugin/api.hpp"

MLQ_PLUGIN("fake_partial", "0.1.0", "fake_partial")

void mlq_register(mlq::Registry& registry) {
  registry.add("tasks", "fake_partial", std::any(std::string("factory from this library")));
  registry.add("models", "fake_partial_model", std::any(4));
  registry.add("models", "fake_partial_model", std::any(5));
}
