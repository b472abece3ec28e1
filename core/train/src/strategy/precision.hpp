#pragma once
// Autocast for trainer.precision = "bf16-mixed".
#include <c10/core/Device.h>

#include "mlq/launch/trainer_options.hpp"

namespace mlq {

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
