#pragma once
// Reading Trainer checkpoints outside training (inference, export).
#include <torch/nn/module.h>

#include <filesystem>

#include "mlq/config/tree.hpp"

namespace mlq {

// The resolved config the checkpoint was trained with (it travels inside every checkpoint).
Config checkpoint_config(const std::filesystem::path& path);

// Loads the checkpoint's model weights into `model`, refusing (one-line UserError naming the file
// and the tensor) any missing tensor or shape that differs.
void load_model_weights(torch::nn::Module& model, const std::filesystem::path& path);

}  // namespace mlq
