#pragma once
// Small conversions between tensors and plain C++ data.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace mlq {

// The values of a tensor of any device and dtype as float32, in row-major order.
std::vector<float> to_float_vector(const torch::Tensor& tensor);

// Parameters of `module` (and its children) that require gradients.
int64_t trainable_parameters(const torch::nn::Module& module);

}  // namespace mlq
