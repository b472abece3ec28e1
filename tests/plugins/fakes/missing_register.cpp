// Exports the info symbol but not the register symbol.
#include <torch/version.h>
#include <boost/dll/alias.hpp>

#include "mlq/plugin/info.hpp"
#include "mlq/version.hpp"

namespace {
const mlq::PluginInfo* info() {
  static const mlq::PluginInfo value{"fake_missing", "0.1.0", mlq::kApiVersion, TORCH_VERSION, ""};
  return &value;
}
}  // namespace
BOOST_DLL_ALIAS(info, mlq_plugin_info)
