// Built against the plugin API before mlq/plugin.hpp (version 3): the runner has a newer one.
#include <boost/dll/alias.hpp>

#include "mlq/plugin/info.hpp"

namespace {
const mlq::PluginInfo* info() {
  static const mlq::PluginInfo value{"fake_api", "0.1.0", 3, "1.13.0", "fake"};
  return &value;
}
void register_nothing(mlq::Registry&) {}
}  // namespace
BOOST_DLL_ALIAS(info, mlq_plugin_info)
BOOST_DLL_ALIAS(register_nothing, mlq_plugin_register)
