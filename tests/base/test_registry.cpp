#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "mlq/plugin/registry.hpp"
#include "mlq/util/error.hpp"
#include "support/error_message.hpp"

using mlq::PluginError;
using mlq::Registry;
using mlq::UserError;
using mlq::test::error_message;

namespace {

std::vector<std::string> names_of(const std::vector<const Registry::Entry*>& entries) {
  std::vector<std::string> out;
  for (const auto* entry : entries) out.push_back(entry->name);
  return out;
}

}  // namespace

TEST_CASE("registry kinds are the ten documented ones, in order") {
  const std::vector<std::string> expected = {
      "tasks",         "models",    "datasets",         "losses",   "metrics",
      "augmentations", "callbacks", "metadata_parsers", "commands", "metric_keys"};
  CHECK(mlq::registry_kinds() == expected);
}

TEST_CASE("an empty registry has nothing") {
  Registry registry;
  for (const auto& kind : mlq::registry_kinds()) {
    CHECK(registry.names(kind).empty());
    CHECK(registry.entries(kind).empty());
    CHECK_FALSE(registry.contains(kind, "anything"));
  }
  CHECK(registry.entries_of("plugin").empty());
  CHECK(registry.names("not_a_kind").empty());
  CHECK_FALSE(registry.contains("not_a_kind", "x"));
}

TEST_CASE("add, contains, get, names and entries") {
  Registry registry;
  registry.set_source("alpha", "/plugins/libmlq_alpha.so");
  registry.add("models", "mlp", std::any(1));
  registry.add("models", "cnn", std::any(2));
  registry.add("tasks", "regression", std::any(3));
  registry.set_source("beta", "/plugins/libmlq_beta.so");
  registry.add("models", "transformer", std::any(4));
  registry.add("losses", "mse", std::any(5));

  CHECK(registry.contains("models", "mlp"));
  CHECK(registry.contains("models", "transformer"));
  CHECK(registry.contains("tasks", "regression"));
  CHECK_FALSE(registry.contains("tasks", "mlp"));  // kinds are separate namespaces
  CHECK_FALSE(registry.contains("models", "MLP"));
  CHECK_FALSE(registry.contains("datasets", "mlp"));

  // names() and entries() are sorted by name.
  CHECK(registry.names("models") == std::vector<std::string>{"cnn", "mlp", "transformer"});
  CHECK(registry.names("tasks") == std::vector<std::string>{"regression"});
  CHECK(registry.names("losses") == std::vector<std::string>{"mse"});
  CHECK(registry.names("metrics").empty());
  CHECK(names_of(registry.entries("models")) ==
        std::vector<std::string>{"cnn", "mlp", "transformer"});

  const Registry::Entry& mlp = registry.get("models", "mlp");
  CHECK(mlp.kind == "models");
  CHECK(mlp.name == "mlp");
  CHECK(mlp.plugin == "alpha");
  CHECK(mlp.file == "/plugins/libmlq_alpha.so");
  CHECK(std::any_cast<int>(mlp.factory) == 1);

  const Registry::Entry& transformer = registry.get("models", "transformer");
  CHECK(transformer.plugin == "beta");
  CHECK(transformer.file == "/plugins/libmlq_beta.so");
  CHECK(std::any_cast<int>(transformer.factory) == 4);
  CHECK(std::any_cast<int>(registry.get("losses", "mse").factory) == 5);

  // entries_of: in registry_kinds() order (tasks before models), then by name.
  const auto alpha = registry.entries_of("alpha");
  REQUIRE(alpha.size() == 3);
  CHECK(alpha[0]->kind == "tasks");
  CHECK(alpha[0]->name == "regression");
  CHECK(alpha[1]->name == "cnn");
  CHECK(alpha[2]->name == "mlp");
  for (const auto* entry : alpha) CHECK(entry->plugin == "alpha");
  const auto beta = registry.entries_of("beta");
  REQUIRE(beta.size() == 2);
  CHECK(beta[0]->kind == "models");
  CHECK(beta[0]->name == "transformer");
  CHECK(beta[1]->kind == "losses");
  CHECK(beta[1]->name == "mse");
  CHECK(registry.entries_of("gamma").empty());
}

TEST_CASE("entries added before any set_source have no plugin or file") {
  Registry registry;
  registry.add("metrics", "accuracy", std::any(0));
  const auto& entry = registry.get("metrics", "accuracy");
  CHECK(entry.plugin.empty());
  CHECK(entry.file.empty());
}

TEST_CASE("every documented kind accepts entries") {
  Registry registry;
  registry.set_source("p", "/p.so");
  for (const auto& kind : mlq::registry_kinds()) {
    CHECK_NOTHROW(registry.add(kind, "same_name", std::any(kind)));
    CHECK(registry.contains(kind, "same_name"));
  }
  CHECK(registry.entries_of("p").size() == mlq::registry_kinds().size());
}

TEST_CASE("a name one plugin registers twice is a PluginError naming the file") {
  Registry registry;
  registry.set_source("only", "/x/libmlq_only.so");
  registry.add("models", "mlp", std::any(1));
  const std::string message =
      error_message<PluginError>([&] { registry.add("models", "mlp", std::any(2)); });
  CHECK(message == "/x/libmlq_only.so: models 'mlp' is already registered by /x/libmlq_only.so");
  // The first registration is kept.
  CHECK(std::any_cast<int>(registry.get("models", "mlp").factory) == 1);
  // The same name in another kind is fine.
  CHECK_NOTHROW(registry.add("datasets", "mlp", std::any(3)));
}

TEST_CASE("task names and commands stay unique across plugins: they pick the plugin") {
  Registry registry;
  registry.set_source("first", "/a/libmlq_first.so");
  registry.add("tasks", "t", std::any(1));
  registry.add("commands", "t:predict", std::any(1));
  registry.set_source("second", "/b/libmlq_second.so");
  CHECK(error_message<PluginError>([&] { registry.add("tasks", "t", std::any(2)); }) ==
        "/b/libmlq_second.so: tasks 't' is already registered by /a/libmlq_first.so");
  CHECK(error_message<PluginError>([&] { registry.add("commands", "t:predict", std::any(2)); }) ==
        "/b/libmlq_second.so: commands 't:predict' is already registered by /a/libmlq_first.so");
  CHECK(registry.get("tasks", "t").plugin == "first");
}

TEST_CASE("a name several plugins register resolves to the scoped task's plugin's entry") {
  Registry registry;
  registry.set_source("first", "/a/libmlq_first.so");
  registry.add("tasks", "t1", std::any(0));
  registry.add("models", "mlp", std::any(1));
  registry.set_source("second", "/b/libmlq_second.so");
  registry.add("tasks", "t2", std::any(0));
  registry.add("models", "mlp", std::any(2));
  registry.add("losses", "only_here", std::any(3));
  CHECK(registry.names("models") == std::vector<std::string>{"mlp"});
  CHECK(registry.entries("models").size() == 2);
  CHECK(registry.contains("models", "mlp"));
  CHECK(error_message<UserError>([&] { registry.get("models", "mlp"); }) ==
        "models 'mlp' is registered by plugins first, second: name one, as 'first:mlp' or "
        "'second:mlp'");
  {
    const Registry::TaskScope scope(registry, "t2");
    CHECK(std::any_cast<int>(registry.get("models", "mlp").factory) == 2);
    // A name only one plugin registers resolves whatever the scope.
    CHECK(std::any_cast<int>(registry.get("losses", "only_here").factory) == 3);
  }
  {
    const Registry::TaskScope scope(registry, "t1");
    CHECK(std::any_cast<int>(registry.get("models", "mlp").factory) == 1);
    CHECK(std::any_cast<int>(registry.get("models", "second:mlp").factory) == 2);
  }
  // "<plugin>:<name>": the plugin must register it.
  CHECK(std::any_cast<int>(registry.get("models", "first:mlp").factory) == 1);
  CHECK_FALSE(registry.contains("models", "first:only_here"));
  CHECK_FALSE(registry.contains("losses", "first:only_here"));
  CHECK(registry.contains("losses", "second:only_here"));
  CHECK(error_message<UserError>([&] { registry.get("models", "third:mlp"); }) ==
        "plugin 'third' registers no models 'mlp' (plugins that do: first, second)");
  // Dropping a file's entries leaves the other plugin's, now unambiguous.
  registry.remove_file("/b/libmlq_second.so");
  CHECK(std::any_cast<int>(registry.get("models", "mlp").factory) == 1);
  CHECK_FALSE(registry.contains("losses", "only_here"));
}

TEST_CASE("an unknown kind is a PluginError naming the file and the kind") {
  Registry registry;
  registry.set_source("p", "/plugins/libmlq_p.so");
  const std::string message =
      error_message<PluginError>([&] { registry.add("model", "mlp", std::any(1)); });
  CHECK(message == "/plugins/libmlq_p.so: registers into unknown registry 'model'");
  CHECK(registry.names("model").empty());
  CHECK_FALSE(registry.contains("model", "mlp"));
  // Kinds are case-sensitive.
  CHECK_THROWS_AS(registry.add("Models", "mlp", std::any(1)), PluginError);
}

TEST_CASE("get() of a missing name suggests the nearest one") {
  Registry registry;
  registry.set_source("p", "/p.so");
  registry.add("models", "mlp", std::any(1));
  registry.add("models", "transformer", std::any(2));
  const std::string message = error_message<UserError>([&] { registry.get("models", "mpl"); });
  CHECK(message == "no models entry named 'mpl'; did you mean 'mlp'?");
  CHECK(error_message<UserError>([&] { registry.get("models", "transfromer"); }) ==
        "no models entry named 'transfromer'; did you mean 'transformer'?");
  // A UserError, not a PluginError: the user asked for the wrong name.
  bool plugin_error = false;
  try {
    registry.get("models", "mpl");
  } catch (const PluginError&) {
    plugin_error = true;
  } catch (const UserError&) {
  }
  CHECK_FALSE(plugin_error);
}

TEST_CASE("get() of a missing name with nothing close lists what is registered") {
  Registry registry;
  registry.set_source("p", "/p.so");
  registry.add("datasets", "linear", std::any(1));
  registry.add("datasets", "audio_folder", std::any(2));
  registry.add("datasets", "csv", std::any(3));
  const std::string message =
      error_message<UserError>([&] { registry.get("datasets", "zzzzzzzz"); });
  CHECK(message == "no datasets entry named 'zzzzzzzz' (registered: audio_folder csv linear)");
}

TEST_CASE("get() in a kind nobody registers says so") {
  Registry registry;
  registry.set_source("p", "/p.so");
  registry.add("models", "mlp", std::any(1));
  CHECK(error_message<UserError>([&] { registry.get("losses", "mse"); }) ==
        "no losses entry named 'mse' (no plugin registers any losses)");
  CHECK(error_message<UserError>([&] { registry.get("widgets", "mlp"); }) ==
        "no widgets entry named 'mlp' (no plugin registers any widgets)");
}

TEST_CASE("factory<F>() returns the factory of the registered type") {
  using IntFactory = std::function<int(int)>;
  Registry registry;
  registry.set_source("p", "/plugins/libmlq_p.so");
  registry.add("models", "double", std::any(IntFactory([](int x) { return 2 * x; })));
  registry.add("models", "square", std::any(IntFactory([](int x) { return x * x; })));
  CHECK(registry.factory<IntFactory>("models", "double")(21) == 42);
  CHECK(registry.factory<IntFactory>("models", "square")(7) == 49);
  // It is the stored object, not a copy.
  CHECK(&registry.factory<IntFactory>("models", "double") ==
        std::any_cast<IntFactory>(&registry.get("models", "double").factory));
}

TEST_CASE("factory<F>() with the wrong type is a PluginError naming the file") {
  using IntFactory = std::function<int(int)>;
  using DoubleFactory = std::function<double(double)>;
  Registry registry;
  registry.set_source("p", "/plugins/libmlq_p.so");
  registry.add("models", "double", std::any(IntFactory([](int x) { return 2 * x; })));
  registry.add("losses", "raw", std::any(7));
  CHECK(error_message<PluginError>([&] { registry.factory<DoubleFactory>("models", "double"); }) ==
        "/plugins/libmlq_p.so: models 'double' was registered with an unexpected factory type");
  CHECK(error_message<PluginError>([&] { registry.factory<IntFactory>("losses", "raw"); }) ==
        "/plugins/libmlq_p.so: losses 'raw' was registered with an unexpected factory type");
  // A missing name is still the get() error.
  CHECK(error_message<UserError>([&] { registry.factory<IntFactory>("models", "doubel"); }) ==
        "no models entry named 'doubel'; did you mean 'double'?");
}
