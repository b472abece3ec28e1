#include <doctest/doctest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "mlq/plugin/loader.hpp"
#include "mlq/plugin/registry.hpp"
#include "mlq/util/error.hpp"
#include "mlq/version.hpp"
#include "support/error_message.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::PluginError;
using mlq::PluginLoader;
using mlq::Registry;
using mlq::test::error_message;
using mlq::test::TempDir;
using mlq::test::write_file;

namespace {

fs::path fake_dir(const std::string& name) {
  return fs::path(MLQ_BUILD_DIR) / "tests" / "fake_plugins" / name;
}
fs::path fake(const std::string& name) {
  return fake_dir(name) / ("libmlq_" + name + ".so");
}
fs::path plugin_dir() {
  return fs::path(MLQ_BUILD_DIR) / "plugins";
}
fs::path regression_plugin() {
  return plugin_dir() / "libmlq_regression.so";
}

// load_all's one refused file (the test fails unless exactly one was refused).
std::string only_refusal(PluginLoader& loader, const std::vector<fs::path>& dirs,
                         Registry& registry) {
  loader.load_all(dirs, registry, /*warn=*/false);
  REQUIRE(loader.refused().size() == 1);
  return loader.refused()[0];
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Sets (or unsets, given nullopt) an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("the fixtures exist") {
  for (const char* name : {"good", "api_mismatch", "torch_mismatch", "missing_register",
                           "not_a_plugin", "duplicate_task"}) {
    INFO(name);
    CHECK(fs::is_regular_file(fake(name)));
  }
  CHECK(fs::is_regular_file(regression_plugin()));
}

TEST_CASE("the good fake plugin loads") {
  Registry registry;
  PluginLoader loader;
  const auto& loaded = loader.load(fake("good"), registry);
  CHECK(loaded.name == "fake_good");
  CHECK(loaded.version == "1.2.3");
  CHECK(loaded.file == fake("good").string());
  CHECK(loaded.tasks == std::vector<std::string>{"fake_task"});
  REQUIRE(loader.plugins().size() == 1);
  CHECK(loader.plugins()[0].name == "fake_good");
  CHECK(loader.versions_json() == "{\"fake_good\":\"1.2.3\"}");

  CHECK(registry.names("tasks") == std::vector<std::string>{"fake_task"});
  CHECK(registry.names("models") == std::vector<std::string>{"fake_model"});
  CHECK(registry.names("metrics") == std::vector<std::string>{"fake_metric"});
  CHECK(registry.names("datasets").empty());
  const auto entries = registry.entries_of("fake_good");
  REQUIRE(entries.size() == 3);
  for (const auto* entry : entries) {
    CHECK(entry->plugin == "fake_good");
    CHECK(entry->file == fake("good").string());
  }
  CHECK(std::any_cast<int>(registry.get("tasks", "fake_task").factory) == 1);
  CHECK(std::any_cast<int>(registry.get("models", "fake_model").factory) == 2);
  CHECK(std::any_cast<int>(registry.get("metrics", "fake_metric").factory) == 3);
}

TEST_CASE("an empty loader") {
  PluginLoader loader;
  CHECK(loader.plugins().empty());
  CHECK(loader.versions_json() == "{}");
}

TEST_CASE("the regression plugin loads from the build's plugin folder") {
  Registry registry;
  PluginLoader loader;
  const auto& loaded = loader.load(regression_plugin(), registry);
  CHECK(loaded.name == "regression");
  CHECK(loaded.version == "0.1.0");
  CHECK(loaded.tasks == std::vector<std::string>{"regression"});
  CHECK(registry.names("tasks") == std::vector<std::string>{"regression"});
  CHECK(registry.names("models") == std::vector<std::string>{"mlp"});
  CHECK(registry.names("datasets") == std::vector<std::string>{"linear"});
  CHECK(registry.names("losses") == std::vector<std::string>{"mse"});
  CHECK(registry.names("metrics") == std::vector<std::string>{"regression"});
  CHECK(registry.get("models", "mlp").file == regression_plugin().string());
  CHECK(registry.names("metadata_parsers") == std::vector<std::string>{"split_list"});
  CHECK(registry.names("callbacks") == std::vector<std::string>{"hook_log"});
  CHECK(registry.names("metric_keys") == std::vector<std::string>{"regression"});
  CHECK(registry.entries_of("regression").size() == 8);
}

TEST_CASE("load_all of the search path finds the regression plugin") {
  ScopedEnv path("MLQ_PLUGIN_PATH", std::nullopt);
  Registry registry;
  PluginLoader loader;
  loader.load_all(PluginLoader::search_path({}), registry);
  bool found = false;
  for (const auto& plugin : loader.plugins())
    if (plugin.name == "regression") found = plugin.file == regression_plugin().string();
  CHECK(found);
  CHECK(registry.contains("tasks", "regression"));
}

TEST_CASE("a plugin built for the previous plugin API version is refused, naming both versions") {
  REQUIRE(mlq::kApiVersion == 4);
  Registry registry;
  PluginLoader loader;
  const std::string message =
      error_message<PluginError>([&] { loader.load(fake("api_mismatch"), registry); });
  CHECK(message == fake("api_mismatch").string() +
                       ": plugin 'fake_api' was built for plugin API version 3, this runner has "
                       "version 4; rebuild the plugin against this runner");
  CHECK(loader.plugins().empty());
  for (const auto& kind : mlq::registry_kinds()) CHECK(registry.names(kind).empty());
}

TEST_CASE("a plugin built with another LibTorch is refused") {
  Registry registry;
  PluginLoader loader;
  const std::string message =
      error_message<PluginError>([&] { loader.load(fake("torch_mismatch"), registry); });
  CHECK(contains(message, fake("torch_mismatch").string() + ": "));
  CHECK(contains(message, "plugin 'fake_torch' was built with LibTorch 0.4.1"));
  // The runner's version follows (torch/version.h is not visible to the tests).
  const size_t runner = message.find("this runner with LibTorch ");
  REQUIRE(runner != std::string::npos);
  CHECK(std::isdigit(static_cast<unsigned char>(message[runner + 26])));
  CHECK(contains(message, "; rebuild the plugin against this runner"));
  CHECK_FALSE(contains(message, "\n"));
  CHECK(loader.plugins().empty());
}

TEST_CASE("a plugin without mlq_plugin_register is refused") {
  Registry registry;
  PluginLoader loader;
  const std::string message =
      error_message<PluginError>([&] { loader.load(fake("missing_register"), registry); });
  CHECK(message == fake("missing_register").string() +
                       ": not an mlq plugin (missing symbol 'mlq_plugin_register')");
  CHECK(loader.plugins().empty());
}

TEST_CASE("an ordinary shared library is not a plugin") {
  Registry registry;
  PluginLoader loader;
  const std::string message =
      error_message<PluginError>([&] { loader.load(fake("not_a_plugin"), registry); });
  CHECK(message ==
        fake("not_a_plugin").string() + ": not an mlq plugin (missing symbol 'mlq_plugin_info')");
  CHECK(loader.plugins().empty());
}

TEST_CASE("a plugin registering a task that is already registered names both files") {
  Registry registry;
  PluginLoader loader;
  loader.load(regression_plugin(), registry);
  const std::string message =
      error_message<PluginError>([&] { loader.load(fake("duplicate_task"), registry); });
  CHECK(message == fake("duplicate_task").string() +
                       ": tasks 'regression' is already registered by " +
                       regression_plugin().string());
  // The first registration stays.
  CHECK(registry.get("tasks", "regression").plugin == "regression");
  REQUIRE(loader.plugins().size() == 1);
  CHECK(loader.plugins()[0].name == "regression");
}

TEST_CASE("two plugins registering the same model name both load, and the run's task picks one") {
  Registry registry;
  PluginLoader loader;
  loader.load(fake("good"), registry);
  loader.load(fake("same_names"), registry);
  REQUIRE(loader.plugins().size() == 2);
  // No task in scope: the name is ambiguous, and the error says how to name one.
  const std::string message =
      error_message<mlq::UserError>([&] { registry.get("models", "fake_model"); });
  CHECK(message ==
        "models 'fake_model' is registered by plugins fake_good, fake_same_names: name one, as "
        "'fake_good:fake_model' or 'fake_same_names:fake_model'");
  {
    const Registry::TaskScope scope(registry, "fake_other_task");
    CHECK(std::any_cast<int>(registry.get("models", "fake_model").factory) == 20);
    CHECK(std::any_cast<int>(registry.get("metrics", "fake_metric").factory) == 30);
    // A qualified name picks another plugin's entry whatever the scope.
    CHECK(std::any_cast<int>(registry.get("models", "fake_good:fake_model").factory) == 2);
    {
      const Registry::TaskScope inner(registry, "fake_task");
      CHECK(std::any_cast<int>(registry.get("models", "fake_model").factory) == 2);
    }
    CHECK(registry.get("models", "fake_model").plugin == "fake_same_names");
  }
  CHECK_THROWS_AS(registry.get("models", "fake_model"), mlq::UserError);
  // A plugin that registers none of the candidates: the error names the task's plugin.
  loader.load(regression_plugin(), registry);
  const Registry::TaskScope scope(registry, "regression");
  CHECK(contains(error_message<mlq::UserError>([&] { registry.get("metrics", "fake_metric"); }),
                 "(task 'regression' comes from plugin regression): name one, as "));
}

TEST_CASE("files that are not shared libraries are refused with the dlopen reason") {
  TempDir dir;
  Registry registry;
  PluginLoader loader;

  SUBCASE("random bytes") {
    std::mt19937 generator(1234);
    std::string bytes(4096, '\0');
    for (char& c : bytes) c = static_cast<char>(generator() & 0xff);
    bytes[0] = 'x';  // never an ELF header by chance
    write_file(dir / "libmlq_corrupt.so", bytes);
    const std::string message =
        error_message<PluginError>([&] { loader.load(dir / "libmlq_corrupt.so", registry); });
    CHECK(contains(message,
                   (dir / "libmlq_corrupt.so").string() + ": not a loadable shared library ("));
    CHECK(contains(message, "invalid ELF header"));
    CHECK_FALSE(contains(message, "\n"));
  }
  SUBCASE("an empty file") {
    write_file(dir / "libmlq_empty.so", "");
    const std::string message =
        error_message<PluginError>([&] { loader.load(dir / "libmlq_empty.so", registry); });
    CHECK(contains(message,
                   (dir / "libmlq_empty.so").string() + ": not a loadable shared library ("));
    CHECK(contains(message, "file too short"));
    CHECK_FALSE(contains(message, "\n"));
  }
  SUBCASE("a text file") {
    // Longer than an ELF header, so dlopen reads it and rejects the header.
    write_file(dir / "libmlq_text.so",
               "This is not a library.\nIt is a text file that happens to end in .so,\n"
               "long enough for the loader to read a whole ELF header from it.\n");
    const std::string message =
        error_message<PluginError>([&] { loader.load(dir / "libmlq_text.so", registry); });
    CHECK(
        contains(message, (dir / "libmlq_text.so").string() + ": not a loadable shared library ("));
    CHECK(contains(message, "invalid ELF header"));
    CHECK_FALSE(contains(message, "\n"));
  }
  SUBCASE("a file that does not exist") {
    const std::string message =
        error_message<PluginError>([&] { loader.load(dir / "libmlq_absent.so", registry); });
    CHECK(contains(message,
                   (dir / "libmlq_absent.so").string() + ": not a loadable shared library ("));
    CHECK(contains(message, "No such file or directory"));
    CHECK_FALSE(contains(message, "\n"));
  }
  CHECK(loader.plugins().empty());
}

TEST_CASE("every failure message is one line naming the file") {
  for (const char* name : {"api_mismatch", "torch_mismatch", "missing_register", "not_a_plugin"}) {
    INFO(name);
    Registry registry;
    PluginLoader loader;
    const std::string message =
        error_message<PluginError>([&] { loader.load(fake(name), registry); });
    CHECK(message.rfind(fake(name).string() + ": ", 0) == 0);
    CHECK_FALSE(contains(message, "\n"));
  }
}

TEST_CASE("the same plugin name from two files is refused, naming the first file") {
  TempDir dir;
  fs::create_directories(dir / "copy");
  const fs::path copy = dir / "copy" / "libmlq_good.so";
  fs::copy_file(fake("good"), copy);
  Registry registry;
  PluginLoader loader;
  loader.load(fake("good"), registry);
  const std::string message = error_message<PluginError>([&] { loader.load(copy, registry); });
  CHECK(message == copy.string() + ": plugin name 'fake_good' is already loaded from " +
                       fake("good").string());
  REQUIRE(loader.plugins().size() == 1);
  CHECK(loader.plugins()[0].file == fake("good").string());
  // Nothing was registered twice.
  CHECK(registry.names("tasks") == std::vector<std::string>{"fake_task"});
  CHECK(registry.get("tasks", "fake_task").file == fake("good").string());
}

TEST_CASE("load_all: missing folders are skipped") {
  TempDir dir;
  Registry registry;
  PluginLoader loader;
  CHECK_NOTHROW(
      loader.load_all({dir / "absent", fake_dir("good"), dir / "also" / "absent"}, registry));
  REQUIRE(loader.plugins().size() == 1);
  CHECK(loader.plugins()[0].name == "fake_good");
  CHECK(registry.contains("tasks", "fake_task"));
}

TEST_CASE("load_all: an empty folder and no folders load nothing") {
  TempDir dir;
  Registry registry;
  PluginLoader loader;
  loader.load_all({}, registry);
  loader.load_all({dir.path()}, registry);
  CHECK(loader.plugins().empty());
}

TEST_CASE("load_all: files that do not end in .so are ignored") {
  TempDir dir;
  fs::copy_file(fake("good"), dir / "libmlq_good.so");
  write_file(dir / "README.txt", "not a plugin");
  write_file(dir / "libmlq_bad.so.1", "not a plugin");
  write_file(dir / "libmlq_bad.so.bak", "not a plugin");
  write_file(dir / "libmlq_bad.SO", "not a plugin");
  write_file(dir / "so", "not a plugin");
  Registry registry;
  PluginLoader loader;
  CHECK_NOTHROW(loader.load_all({dir.path()}, registry));
  REQUIRE(loader.plugins().size() == 1);
  CHECK(loader.plugins()[0].file == (dir / "libmlq_good.so").string());
}

TEST_CASE("load_all: a bad file is refused with its reason and the good ones still load") {
  TempDir dir;
  fs::copy_file(fake("good"), dir / "libmlq_good.so");
  fs::copy_file(regression_plugin(), dir / "libmlq_regression.so");
  write_file(dir / "libmlq_junk.so", "junk");
  fs::copy_file(fake("api_mismatch"), dir / "libmlq_api.so");
  fs::copy_file(fake("partial_duplicate"), dir / "libmlq_partial.so");
  Registry registry;
  PluginLoader loader;
  loader.load_all({dir.path()}, registry, /*warn=*/false);
  REQUIRE(loader.plugins().size() == 2);
  CHECK(loader.plugins()[0].name == "fake_good");
  CHECK(loader.plugins()[1].name == "regression");
  REQUIRE(loader.refused().size() == 3);
  CHECK(contains(loader.refused()[0], (dir / "libmlq_api.so").string() + ": plugin 'fake_api'"));
  CHECK(contains(loader.refused()[1],
                 (dir / "libmlq_junk.so").string() + ": not a loadable shared library"));
  CHECK(contains(loader.refused()[2], (dir / "libmlq_partial.so").string() + ": models"));
  // What the refused plugin registered before failing is gone with it.
  CHECK_FALSE(registry.contains("tasks", "fake_partial"));
  CHECK(registry.contains("tasks", "fake_task"));
  // A lookup that fails names the refused files as a possible cause.
  try {
    registry.get("tasks", "classification");
    FAIL("expected an error");
  } catch (const mlq::UserError& e) {
    CHECK(contains(e.what(), "refused plugin files, one of which may provide it: " +
                                 (dir / "libmlq_api.so").string()));
  }
}

TEST_CASE("load_all: files of a folder load in sorted order") {
  // Two plugins, one good and one refused: which is loaded before the error shows the order.
  SUBCASE("good first") {
    TempDir dir;
    fs::copy_file(fake("api_mismatch"), dir / "libmlq_z.so");
    fs::copy_file(fake("good"), dir / "libmlq_a.so");
    Registry registry;
    PluginLoader loader;
    const std::string message = only_refusal(loader, {dir.path()}, registry);
    CHECK(contains(message, (dir / "libmlq_z.so").string() + ": plugin 'fake_api'"));
    REQUIRE(loader.plugins().size() == 1);
    CHECK(loader.plugins()[0].file == (dir / "libmlq_a.so").string());
  }
  SUBCASE("refused first") {
    TempDir dir;
    fs::copy_file(fake("good"), dir / "libmlq_z.so");
    fs::copy_file(fake("api_mismatch"), dir / "libmlq_a.so");
    Registry registry;
    PluginLoader loader;
    const std::string message = only_refusal(loader, {dir.path()}, registry);
    CHECK(contains(message, (dir / "libmlq_a.so").string() + ": plugin 'fake_api'"));
    REQUIRE(loader.plugins().size() == 1);  // the good one still loads, after it
    CHECK(loader.plugins()[0].file == (dir / "libmlq_z.so").string());
  }
  SUBCASE("several good plugins") {
    TempDir dir;
    fs::copy_file(fake("good"), dir / "libmlq_b.so");
    fs::copy_file(regression_plugin(), dir / "libmlq_a.so");
    Registry registry;
    PluginLoader loader;
    loader.load_all({dir.path()}, registry);
    REQUIRE(loader.plugins().size() == 2);
    CHECK(loader.plugins()[0].name == "regression");
    CHECK(loader.plugins()[0].file == (dir / "libmlq_a.so").string());
    CHECK(loader.plugins()[1].name == "fake_good");
    CHECK(loader.plugins()[1].file == (dir / "libmlq_b.so").string());
    CHECK(loader.versions_json() == "{\"regression\":\"0.1.0\",\"fake_good\":\"1.2.3\"}");
  }
}

TEST_CASE("load_all: folders load in the order given") {
  // The same plugin in two folders: the second one loaded is the one refused.
  TempDir dir;
  fs::create_directories(dir / "other");
  const fs::path copy = dir / "other" / "libmlq_good.so";
  fs::copy_file(fake("good"), copy);
  SUBCASE("fake folder first") {
    Registry registry;
    PluginLoader loader;
    const std::string message = only_refusal(loader, {fake_dir("good"), dir / "other"}, registry);
    CHECK(message == copy.string() + ": plugin name 'fake_good' is already loaded from " +
                         fake("good").string());
  }
  SUBCASE("copy first") {
    Registry registry;
    PluginLoader loader;
    const std::string message = only_refusal(loader, {dir / "other", fake_dir("good")}, registry);
    CHECK(message == fake("good").string() + ": plugin name 'fake_good' is already loaded from " +
                         copy.string());
  }
}

TEST_CASE("load_all: a folder listed twice is loaded once") {
  Registry registry;
  PluginLoader loader;
  CHECK_NOTHROW(loader.load_all({fake_dir("good"), fake_dir("good")}, registry));
  CHECK(loader.plugins().size() == 1);
  // Also when spelled differently.
  Registry registry2;
  PluginLoader loader2;
  CHECK_NOTHROW(loader2.load_all(
      {fake_dir("good"), fake_dir("good") / ".", fake_dir("good") / ".." / "good"}, registry2));
  CHECK(loader2.plugins().size() == 1);
  CHECK(registry2.names("tasks") == std::vector<std::string>{"fake_task"});
}

TEST_CASE("search_path: the build's plugin folder, then MLQ_PLUGIN_PATH, then extra folders") {
  SUBCASE("no MLQ_PLUGIN_PATH") {
    ScopedEnv env("MLQ_PLUGIN_PATH", std::nullopt);
    CHECK(PluginLoader::search_path({}) == std::vector<fs::path>{plugin_dir()});
    CHECK(PluginLoader::search_path({"/extra/one", "/extra/two"}) ==
          std::vector<fs::path>{plugin_dir(), "/extra/one", "/extra/two"});
  }
  SUBCASE("MLQ_PLUGIN_PATH entries in order, empty ones dropped") {
    ScopedEnv env("MLQ_PLUGIN_PATH", std::string("/env/a::/env/b:"));
    CHECK(PluginLoader::search_path({"/extra"}) ==
          std::vector<fs::path>{plugin_dir(), "/env/a", "/env/b", "/extra"});
  }
  SUBCASE("an empty MLQ_PLUGIN_PATH") {
    ScopedEnv env("MLQ_PLUGIN_PATH", std::string(""));
    CHECK(PluginLoader::search_path({}) == std::vector<fs::path>{plugin_dir()});
  }
  SUBCASE("missing folders are kept in the list (load_all skips them)") {
    ScopedEnv env("MLQ_PLUGIN_PATH", std::string("/does/not/exist"));
    CHECK(PluginLoader::search_path({}) == std::vector<fs::path>{plugin_dir(), "/does/not/exist"});
  }
}

TEST_CASE("search_path with MLQ_PLUGIN_PATH finds plugins there") {
  ScopedEnv env("MLQ_PLUGIN_PATH", fake_dir("good").string());
  Registry registry;
  PluginLoader loader;
  loader.load_all(PluginLoader::search_path({}), registry);
  bool regression = false, good = false;
  for (const auto& plugin : loader.plugins()) {
    regression = regression || plugin.name == "regression";
    good = good || plugin.name == "fake_good";
  }
  CHECK(regression);
  CHECK(good);
  // The build folder comes first.
  REQUIRE_FALSE(loader.plugins().empty());
  CHECK(fs::path(loader.plugins().back().file).parent_path() == fake_dir("good"));
}

TEST_CASE("a plugin that fails halfway through registering is an error, never a crash") {
  {
    mlq::Registry registry;
    mlq::PluginLoader loader;
    loader.load(fake("good"), registry);
    const std::string twice = "models 'fake_partial_model' is already registered by " +
                              fake("partial_duplicate").string();
    CHECK_THROWS_WITH_AS(loader.load(fake("partial_duplicate"), registry),
                         doctest::Contains(twice.c_str()), mlq::PluginError);
    // The entry it did register holds a factory whose code lives in that library: destroying
    // the registry below runs it, which crashed while the library was unloaded on failure.
    CHECK(registry.contains("tasks", "fake_partial"));
  }
  CHECK(true);
}

TEST_CASE("a runner library that cannot be loaded is one error naming its path and the reason") {
  const std::string message = error_message<PluginError>([] {
    try {
      mlq::load_for_good("libmlq_missing.so", boost::dll::load_mode::rtld_now);
    } catch (const std::runtime_error& e) {
      throw mlq::PluginError(e.what());
    }
  });
  CHECK(message.find("/libmlq_missing.so: ") != std::string::npos);
  CHECK(message.find("No such file") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  // The training library itself loads, once, for good.
  CHECK(&mlq::train_library() == &mlq::train_library());
}
