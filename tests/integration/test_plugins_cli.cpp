// runner plugins and plugin loading through the real runner: listing, --plugin-dir and
// MLQ_PLUGIN_PATH, refused files, and a plugin's callbacks turned on by the config.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::test::read_file;
using mlq::test::TempDir;
using mlq::test::write_file;
using namespace mlq::test::cli;

TEST_CASE("runner plugins lists the regression plugin and what it registers") {
  Cli cli;
  const auto result = cli.run({"plugins"});
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "regression 0.1.0  " + regression_plugin().string() + "\n"));
  CHECK(contains(result.out, "  tasks:            regression\n"));
  CHECK(contains(result.out, "  models:           mlp\n"));
  CHECK(contains(result.out, "  datasets:         linear\n"));
  CHECK(contains(result.out, "  losses:           mse\n"));
  CHECK(contains(result.out, "  metrics:          regression\n"));
  CHECK_FALSE(contains(result.out, "fake_good"));
  CHECK_FALSE(cli.has_outputs());
}

TEST_CASE("runner plugins --plugin-dir adds a folder") {
  Cli cli;
  const auto good = fake_dir("good") / "libmlq_good.so";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"plugins", "--plugin-dir", fake_dir("good").string()},
        std::vector<std::string>{"plugins", "--plugin-dir=" + fake_dir("good").string()}}) {
    const auto result = cli.run(args);
    INFO("runner output:\n" << result.out);
    REQUIRE(result.exit_code == 0);
    CHECK(contains(result.out, "regression 0.1.0  "));
    CHECK(contains(result.out, "fake_good 1.2.3  " + good.string() + "\n"));
    CHECK(contains(result.out, "  tasks:            fake_task\n"));
    CHECK(contains(result.out, "  models:           fake_model\n"));
    CHECK(contains(result.out, "  metrics:          fake_metric\n"));
    // The build folder comes first.
    CHECK(result.out.find("regression 0.1.0") < result.out.find("fake_good 1.2.3"));
  }
}

TEST_CASE("a broken plugin is refused on its own line, the good ones load and commands go on") {
  Cli cli;
  TempDir plugins;
  fs::copy_file(fake_dir("good") / "libmlq_good.so", plugins / "libmlq_good.so");
  fs::copy_file(fake_dir("api_mismatch") / "libmlq_api_mismatch.so", plugins / "libmlq_api.so");
  write_file(plugins / "libmlq_corrupt.so", std::string("\x7f"
                                                        "ELF",
                                                        4) +
                                                std::string(600, '\0'));
  const std::string api = (plugins / "libmlq_api.so").string();
  const std::string corrupt = (plugins / "libmlq_corrupt.so").string();

  const auto listed = cli.run({"plugins", "--plugin-dir", plugins.path().string()});
  INFO("runner plugins:\n" << listed.out);
  CHECK(listed.exit_code == 1);
  CHECK(contains(listed.out, "regression 0.1.0  "));
  CHECK(contains(listed.out, "fake_good 1.2.3  " + (plugins / "libmlq_good.so").string()));
  CHECK(contains(listed.out,
                 "refused: " + api + ": plugin 'fake_api' was built for plugin API version 3"));
  CHECK(contains(listed.out, "refused: " + corrupt + ": not a loadable shared library"));

  // Training a task that loaded: one warning line per refused file, and the run goes on.
  const auto trained = cli.run(concat({kConfig, "--plugin-dir", plugins.path().string()}, tiny()));
  INFO("training:\n" << trained.out);
  CHECK(trained.exit_code == 0);
  CHECK(contains(trained.out, "warning: " + api));
  CHECK(contains(trained.out, "warning: " + corrupt));

  // A task that no plugin provides: the refused files are named as a possible cause.
  write_file(plugins / "fake_api.toml", "task = \"fake_api\"\n");
  const auto missing = cli.run({"--config=" + (plugins / "fake_api.toml").string(), "--plugin-dir",
                                plugins.path().string()});
  INFO("missing task:\n" << missing.out);
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.out, "refused plugin files, one of which may provide it: " + api));
}

TEST_CASE("runner plugins finds plugins through MLQ_PLUGIN_PATH") {
  Cli cli;
  const auto result = cli.run({"plugins"}, {{"MLQ_PLUGIN_PATH", fake_dir("good").string()}});
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out,
                 "fake_good 1.2.3  " + (fake_dir("good") / "libmlq_good.so").string() + "\n"));
  CHECK(contains(result.out, "regression 0.1.0  "));
}

TEST_CASE("a plugin folder given both ways is loaded once") {
  Cli cli;
  const auto result = cli.run({"plugins", "--plugin-dir", fake_dir("good").string()},
                              {{"MLQ_PLUGIN_PATH", fake_dir("good").string()}});
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  const size_t first = result.out.find("fake_good 1.2.3");
  REQUIRE(first != std::string::npos);
  CHECK(result.out.find("fake_good 1.2.3", first + 1) == std::string::npos);
}

TEST_CASE(
    "a plugin's callback turned on by [callbacks] gets every hook in order and can stop training") {
  Cli cli;
  const fs::path hooks = cli.dir / "hooks.txt";
  const auto result = cli.run(
      concat(concat({kConfig}, tiny()),
             {"+callbacks.names=[\"hook_log\"]", "+callbacks.hook_log.path=" + hooks.string(),
              "+callbacks.hook_log.stop_at_step=3", "trainer.val_every_n_steps=2",
              "trainer.max_steps=10"}));
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "stopped at step 3: hook_log: stop_at_step = 3"));
  // 64 examples in batches of 32: an epoch ends every 2 steps.
  CHECK(read_file(hooks) ==
        "train_start 0\n"
        "train_batch_end 1\n"
        "train_batch_end 2\n"
        "validation_end 2\n"
        "train_epoch_end 2\n"
        "train_batch_end 3\n"
        "train_end 3\n"
        "test_end 3\n");

  Cli fresh;
  const std::string unknown = one_line_error(
      fresh, fresh.run(concat({kConfig, "+callbacks.names=[\"hook_lag\"]"}, tiny())));
  CHECK(contains(unknown, "no plugin registers a callback 'hook_lag' (registered: hook_log)"));
  CHECK(contains(unknown, "did you mean 'hook_log'?"));
}
