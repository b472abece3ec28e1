// `runner summary`, on the LibTorch side: build the task's model and describe it.
#include <fmt/format.h>
#include <torch/torch.h>

#include <boost/dll/alias.hpp>
#include <cstdio>

#include "mlq/launch/train_entry.hpp"
#include "mlq/train/components.hpp"
#include "mlq/train/tensor_utils.hpp"

namespace mlq {
namespace {

// "torch::nn::LinearImpl" -> "Linear", "(anonymous namespace)::Mlp" -> "Mlp".
std::string type_name(const torch::nn::Module& module) {
  std::string name = module.name();
  if (const size_t colons = name.rfind("::"); colons != std::string::npos)
    name = name.substr(colons + 2);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0)
    name.resize(name.size() - 4);
  return name;
}

// One line per module down to `depth`, indented, with its trainable parameters.
void print_modules(const torch::nn::Module& module, const std::string& name, int depth,
                   int max_depth) {
  std::printf("%s\n", fmt::format("{:<52} {:>12L}",
                                  std::string(2 * depth, ' ') + name + "  " + type_name(module),
                                  trainable_parameters(module))
                          .c_str());
  if (depth == max_depth) return;
  for (const auto& child : module.named_children())
    print_modules(*child.value(), child.key(), depth + 1, max_depth);
}

}  // namespace

void summary_entry(const SummaryRequest& request) {
  const Config& config = *request.config;
  const Registry::TaskScope scope(*request.registry, config.get_string("task"));
  std::shared_ptr<Task> task =
      request.registry->factory<TaskFactory>("tasks", config.get_string("task"))();
  task->setup(config, *request.registry);
  std::shared_ptr<Model> model = task->model();
  if (!model) throw UserError("task '" + config.get_string("task") + "' built no model");
  std::printf("%-52s %12s\n", "module", "parameters");
  print_modules(*model, config.get_string("model.name", "model"), 0, 2);
  std::printf("%s\n",
              fmt::format("trainable parameters: {:L}", trainable_parameters(*model)).c_str());
  const int64_t macs = model->macs_per_second();
  if (macs > 0)
    std::printf("multiply-accumulates per second of audio: %.3f G\n", macs / 1e9);
  else
    std::printf("multiply-accumulates per second of audio: not reported by the model\n");
}

}  // namespace mlq

BOOST_DLL_ALIAS(mlq::summary_entry, mlq_train_summary)
