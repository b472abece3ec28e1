#include "strategy/precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

// LibTorch 2.4 replaced the per-device autocast functions with ones taking a device type (the
// old ones remain, deprecated).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define MLQ_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace mlq {
namespace {

bool autocast_enabled(c10::DeviceType type) {
#ifdef MLQ_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

void set_autocast(c10::DeviceType type, bool enabled) {
#ifdef MLQ_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, enabled);
  if (enabled) at::autocast::set_autocast_dtype(type, at::kBFloat16);
#else
  if (type == c10::DeviceType::CPU) {
    at::autocast::set_cpu_enabled(enabled);
    if (enabled) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  } else {
    at::autocast::set_enabled(enabled);
    if (enabled) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  }
#endif
}

}  // namespace

AutocastScope::AutocastScope(Precision precision, const c10::Device& device)
    : active_(precision == Precision::BFloat16Mixed), device_type_(device.type()) {
  if (!active_) return;
  was_enabled_ = autocast_enabled(device_type_);
  set_autocast(device_type_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Casts are cached while autocast is on; the cache goes when the outermost scope ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(device_type_, was_enabled_);
}

}  // namespace mlq
