// Claims to be built with another LibTorch.
#include <boost/dll/alias.hpp>

#include "mlq/plugin/info.hpp"
#include "mlq/version.hpp"

namespace {
const mlq::PluginInfo* info() {
  static const mlq::PluginInfo value{"fake_torch", "0.1.0", mlq::kApiVersion, "0.4.1", "fake"};
  return &value;
}
void register_nothing(mlq::Registry&) {}
}  // namespace
BOOST_DLL_ALIAS(info, mlq_plugin_info)
BOOST_DLL_ALIAS(register_nothing, mlq_plugin_register)
