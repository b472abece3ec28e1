// Claims a plugin API version the runner does not have.
#include <boost/dll/alias.hpp>

#include "mlq/plugin/info.hpp"

namespace {
const mlq::PluginInfo* info() {
  static const mlq::PluginInfo value{"fake_api", "0.1.0", 999, "1.13.0", "fake"};
  return &value;
}
void register_nothing(mlq::Registry&) {}
}  // namespace
BOOST_DLL_ALIAS(info, mlq_plugin_info)
BOOST_DLL_ALIAS(register_nothing, mlq_plugin_register)
