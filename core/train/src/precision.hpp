#pragma once
// trainer.precision: "32" (float32 throughout) or "bf16-mixed" (autocast: matrix products and
// convolutions in bfloat16, reductions and losses in float32; weights, gradients and optimiser
// state stay float32).
#include <c10/core/Device.h>

#include <string>

namespace mlq {

enum class Precision { Float32, BFloat16Mixed };

// A ConfigError naming trainer.precision for anything else.
Precision parse_precision(const std::string& value);

// Autocast on the device's type for the scope's lifetime (the forward pass and the loss; backward
// runs outside, as PyTorch recommends).
class AutocastScope {
 public:
  AutocastScope(Precision precision, const c10::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_;
  c10::DeviceType device_type_;
  bool was_enabled_ = false;
};

}  // namespace mlq
