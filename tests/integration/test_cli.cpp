// The runner binary, driven as a subprocess: its command line, --cfg and config errors.
#include <doctest/doctest.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"
#include "mlq/tracking/manifest.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::Manifest;
using mlq::RunRecord;
using mlq::test::ProcessResult;
using mlq::test::read_file;
using mlq::test::TempDir;
using mlq::test::write_file;

using namespace mlq::test::cli;

TEST_CASE("runner --help prints the usage and exits 0") {
  Cli cli;
  for (const char* flag : {"--help", "-h", "help"}) {
    INFO(flag);
    const auto result = cli.run({flag});
    INFO("runner output:\n" << result.out);
    CHECK(result.exit_code == 0);
    CHECK(result.out.rfind("runner: train, evaluate and track audio ML experiments\n", 0) == 0);
    CHECK(contains(result.out, "usage:"));
    CHECK(contains(result.out, "runner [--task=T] --config=FILE [overrides...]"));
    CHECK(contains(result.out, "runner plugins [--plugin-dir DIR]"));
    CHECK(contains(result.out, "runner runs list|show|compare|tag|export|delete"));
    CHECK(contains(result.out, "runner report ID [ID...] -o FILE.html"));
  }
  CHECK_FALSE(cli.has_outputs());
}

TEST_CASE("runner with no arguments prints the usage and exits 2") {
  Cli cli;
  const auto result = cli.run({});
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "usage:"));
}

TEST_CASE("runner --version") {
  Cli cli;
  const auto result = cli.run({"--version"});
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "runner 0.1.0 (plugin API 4)\n");
}

TEST_CASE("the train command's --help lists its options") {
  Cli cli;
  const auto result = cli.run({kConfig, "--help"});
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 0);
  for (const char* option : {"--task", "--config", "--cfg", "--multirun", "--plugin-dir"})
    CHECK(contains(result.out, option));
  CHECK_FALSE(cli.has_outputs());
}

TEST_CASE("an unknown option is a one-line error, exit 2") {
  Cli cli;
  const std::string out = one_line_error(cli, cli.run({kConfig, "--bogus"}));
  CHECK(contains(out, "bogus"));
  CHECK(contains(out, "(see runner --help)"));
}

TEST_CASE("a missing --config is a one-line error, exit 2") {
  Cli cli;
  CHECK(one_line_error(cli, cli.run({"trainer.max_steps=5"})) ==
        "error: missing --config=FILE (see runner --help)\n");
}

TEST_CASE("--cfg prints the resolved config with overrides applied and creates nothing") {
  Cli cli;
  const auto result = cli.run({"--cfg", kConfig, "trainer.max_steps=7", "data.noise=0.5",
                               "+tags.note=hello", "~trainer.early_stopping"});
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  toml::table config;
  REQUIRE_NOTHROW(config = toml::parse(result.out));
  CHECK(config["task"].value<std::string>() == "regression");
  CHECK(config["trainer"]["max_steps"].value<int64_t>() == 7);
  CHECK(config["trainer"]["batch_size"].value<int64_t>() == 32);
  CHECK(config["trainer"]["optimizer"]["name"].value<std::string>() == "adam");
  CHECK(config["trainer"]["optimizer"]["lr"].value<double>() == doctest::Approx(3e-3));
  CHECK(config["data"]["noise"].value<double>() == doctest::Approx(0.5));
  CHECK(config["data"]["num_train"].value<int64_t>() == 2048);
  CHECK(config["tags"]["note"].value<std::string>() == "hello");
  CHECK_FALSE(config["trainer"]["early_stopping"]);
  CHECK(config["loss"]["name"].value<std::string>() == "mse");
  CHECK(config["model"]["name"].value<std::string>() == "mlp");
  // ${data.input_dim} is resolved.
  CHECK(config["model"]["input_dim"].value<int64_t>() == 8);
  CHECK_FALSE(config["defaults"]);
  const auto* hidden = config["model"]["hidden"].as_array();
  REQUIRE(hidden);
  CHECK(hidden->size() == 2);
  CHECK((*hidden)[0].value<int64_t>() == 64);

  CHECK_FALSE(cli.has_outputs());
  if (!testing_postgresql()) CHECK_FALSE(fs::exists(cli.db()));
  CHECK(std::distance(fs::directory_iterator(cli.dir.path()), fs::directory_iterator()) == 0);
}

TEST_CASE("--cfg output is identical for identical configurations") {
  Cli cli;
  const auto a = cli.run({"--cfg", kConfig, "trainer.max_steps=7", "data.seed=3"});
  const auto b = cli.run({"--cfg", kConfig, "data.seed=3", "trainer.max_steps=7"});
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
}

TEST_CASE("--cfg with a group swap: model=mlp_wide") {
  Cli cli;
  const auto result = cli.run({"--cfg", kConfig, "model=mlp_wide"});
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  const toml::table config = toml::parse(result.out);
  CHECK(config["model"]["name"].value<std::string>() == "mlp");
  const auto* hidden = config["model"]["hidden"].as_array();
  REQUIRE(hidden);
  REQUIRE(hidden->size() == 2);
  CHECK((*hidden)[0].value<int64_t>() == 256);
  CHECK((*hidden)[1].value<int64_t>() == 256);
  CHECK(contains(result.out, "hidden = [256, 256]"));
  CHECK_FALSE(cli.has_outputs());
}

TEST_CASE("--cfg: override values may contain commas") {
  // Arrays, inline tables and quoted strings hold commas; an override is one argument each.
  Cli cli;
  const auto result = cli.run({"--cfg", kConfig, "model.hidden=[32,16]", "+tags.note=\"a,b\"",
                               "trainer.optimizer.lr=1e-3"});
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  const toml::table config = toml::parse(result.out);
  const auto* hidden = config["model"]["hidden"].as_array();
  REQUIRE(hidden);
  REQUIRE(hidden->size() == 2);
  CHECK((*hidden)[0].value<int64_t>() == 32);
  CHECK((*hidden)[1].value<int64_t>() == 16);
  CHECK(config["tags"]["note"].value<std::string>() == "a,b");
}

TEST_CASE("--cfg --multirun prints one config per combination") {
  Cli cli;
  const auto result =
      cli.run({"--cfg", "--multirun", kConfig, "trainer.max_steps=1,2", "data.seed=5"});
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "# run 1 of 2\n"));
  CHECK(contains(result.out, "# run 2 of 2\n"));
  CHECK_FALSE(contains(result.out, "# run 3"));
  CHECK(contains(result.out, "max_steps = 1\n"));
  CHECK(contains(result.out, "max_steps = 2\n"));
  CHECK_FALSE(cli.has_outputs());
}

TEST_CASE("config errors: one line, exit 2, naming the key and where it came from") {
  Cli cli;
  SUBCASE("an unknown override key suggests the nearest one") {
    const std::string out = one_line_error(cli, cli.run({kConfig, "trainer.max_step=5"}));
    CHECK(contains(out, "override 'trainer.max_step=5'"));
    CHECK(contains(out, "key 'trainer.max_step' does not exist"));
    CHECK(contains(out, "did you mean 'trainer.max_steps'?"));
  }
  SUBCASE("a value of the wrong type") {
    const std::string out = one_line_error(cli, cli.run({kConfig, "trainer.max_steps=abc"}));
    CHECK(contains(out, "override 'trainer.max_steps=abc'"));
    CHECK(contains(out, "expected an integer"));
    CHECK(contains(out, "configs/regression/trainer/default.toml"));
    CHECK(contains(out, "'abc'"));
  }
  SUBCASE("a [trainer] value outside its choices fails before a run exists") {
    CHECK(one_line_error(cli, cli.run({kConfig, "trainer.precision=bf16"})) ==
          "error: config key 'trainer.precision' = \"bf16\": expected \"32\", \"bf16-mixed\" "
          "or \"auto\"\n");
    CHECK(contains(one_line_error(cli, cli.run({kConfig, "trainer.device=tpu"})),
                   "config key 'trainer.device' = \"tpu\": expected \"cpu\" or \"cuda\""));
    CHECK(contains(one_line_error(cli, cli.run({kConfig, "trainer.device=cuda:x"})),
                   "config key 'trainer.device' = \"cuda:x\""));
    CHECK(contains(one_line_error(cli, cli.run({kConfig, "trainer.accumulate_grad_batches=0"})),
                   "'trainer.accumulate_grad_batches'"));
  }
  SUBCASE("a value out of its range fails before a run exists, naming key, value and range") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"trainer.num_workers=-1",
         "'trainer.num_workers' = -1 (override "
         "'trainer.num_workers=-1'): expected an integer >= 0"},
        {"trainer.threads=-2",
         "'trainer.threads' = -2 (override 'trainer.threads=-2'): "
         "expected an integer >= 0"},
        {"trainer.val_every_n_steps=-1", "'trainer.val_every_n_steps' = -1"},
        {"trainer.gradient_clip_val=-3",
         "'trainer.gradient_clip_val' = -3 (override "
         "'trainer.gradient_clip_val=-3'): expected a number >= 0"},
        {"trainer.batch_size=0",
         "'trainer.batch_size' = 0 (override 'trainer.batch_size=0'): "
         "expected an integer >= 1"},
        {"trainer.optimizer.lr=-1",
         "'trainer.optimizer.lr' = -1 (override "
         "'trainer.optimizer.lr=-1'): expected a number >= 0"},
        {"++trainer.optimizer.betas=[0.9,1.5]", "'trainer.optimizer.betas' = 1.5"},
        {"++trainer.scheduler.gamma=0", "'trainer.scheduler.gamma' = 0"},
        {"++trainer.checkpoint.save_top_k=-2", "'trainer.checkpoint.save_top_k' = -2"},
        {"++trainer.early_stopping.patience=-1", "'trainer.early_stopping.patience' = -1"},
        {"data.num_train=-5", "'data.num_train' = -5"},
    };
    for (const auto& [override_text, expected] : cases) {
      CAPTURE(override_text);
      CHECK(contains(one_line_error(cli, cli.run({kConfig, override_text})),
                     "error: config key " + expected));
    }
  }
  SUBCASE("a missing config file") {
    const std::string missing = (cli.dir / "nope.toml").string();
    CHECK(one_line_error(cli, cli.run({"--config=" + missing})) ==
          "error: config file '" + missing + "' not found\n");
  }
  SUBCASE("a missing group option lists the options") {
    const std::string out = one_line_error(cli, cli.run({kConfig, "model=nope"}));
    CHECK(contains(out, "override 'model=nope'"));
    CHECK(contains(out, "option 'nope' of group 'model' not found"));
    CHECK(contains(out, "available: mlp, mlp_wide"));
  }
  SUBCASE("a TOML syntax error gives the file and line") {
    const fs::path bad = cli.dir / "bad.toml";
    write_file(bad, "task = \"regression\"\n\nthis is = not toml\n");
    const std::string out = one_line_error(cli, cli.run({"--config=" + bad.string()}));
    CHECK(contains(out, "error: " + bad.string() + ":3:"));
    CHECK(contains(out, "TOML parse error"));
    // The config file in the TempDir is all that is there.
    fs::remove(bad);
  }
  SUBCASE("a bad value inside --cfg is an error too") {
    const std::string out =
        one_line_error(cli, cli.run({"--cfg", kConfig, "trainer.max_steps=abc"}));
    CHECK(contains(out, "override 'trainer.max_steps=abc'"));
  }
}

TEST_CASE("an unknown task suggests the registered one") {
  Cli cli;
  // An experiment without [defaults], so composing succeeds and the task is looked up among the
  // plugins' tasks.
  const fs::path exp = cli.dir / "exp.toml";
  write_file(exp, "task = \"regression\"\n");
  const auto result = cli.run({"--config=" + exp.string(), "--task=regresion"});
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 2);
  CHECK(result.out == "error: no tasks entry named 'regresion'; did you mean 'regression'?\n");
  CHECK_FALSE(cli.has_outputs());
  if (!testing_postgresql()) CHECK_FALSE(fs::exists(cli.db()));
}
