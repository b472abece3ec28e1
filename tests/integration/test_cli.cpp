// The runner binary, driven as a subprocess: command line, config errors, plugins, training runs
// and what they leave behind (run folder, SQLite manifest).
#include <doctest/doctest.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
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
  CHECK_FALSE(fs::exists(cli.db()));
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
          "error: config key 'trainer.precision' = \"bf16\": expected \"32\" or "
          "\"bf16-mixed\"\n");
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
  CHECK_FALSE(fs::exists(cli.db()));
}

TEST_CASE("runner runs list without a manifest") {
  Cli cli;
  const auto result = cli.run({"runs", "list"});
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "no runs yet (" + cli.db().string() + ")\n");
  CHECK_FALSE(fs::exists(cli.db()));
}

TEST_CASE("a short training run: run folder, files and manifest") {
  TempDir cwd;
  const std::vector<std::string> overrides = concat(tiny(), {"+tags.note=cli"});
  // No MLQ_DB and no MLQ_PLUGIN_PATH at all (`env -u`): the manifest goes to
  // <cwd>/outputs/runs.sqlite.
  std::vector<std::string> argv{"env",      "-u",   "MLQ_DB", "-u", "MLQ_PLUGIN_PATH",
                                MLQ_RUNNER, kConfig};
  argv.insert(argv.end(), overrides.begin(), overrides.end());
  const auto result = mlq::test::run_process(argv, {}, cwd.path());
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);

  const auto dirs = run_dirs(cwd.path());
  REQUIRE(dirs.size() == 1);
  const fs::path run_dir = dirs[0];
  CHECK(std::regex_match(run_dir.parent_path().filename().string(),
                         std::regex(R"(\d{4}-\d{2}-\d{2})")));
  CHECK(std::regex_match(run_dir.filename().string(),
                         std::regex(R"(\d{2}-\d{2}-\d{2}-[0-9a-f]{8})")));
  const std::string id = id_of(run_dir);
  CHECK(contains(result.out, id));

  // config.toml: the resolved config.
  const toml::table config = toml::parse(read_file(run_dir / "config.toml"));
  CHECK(config["task"].value<std::string>() == "regression");
  CHECK(config["trainer"]["max_steps"].value<int64_t>() == 5);
  CHECK(config["data"]["num_train"].value<int64_t>() == 64);
  CHECK(config["tags"]["note"].value<std::string>() == "cli");
  // overrides.txt: the overrides as given, one a line.
  std::string expected_overrides;
  for (const auto& o : overrides) expected_overrides += o + "\n";
  CHECK(read_file(run_dir / "overrides.txt") == expected_overrides);
  // run.log
  const std::string log = read_file(run_dir / "run.log");
  CHECK(contains(log, "run " + id));
  CHECK(contains(log, "finished"));
  // metrics.csv: header, then train_loss at steps 1..5, validation at step 5.
  const std::string csv = read_file(run_dir / "metrics.csv");
  CHECK(csv.rfind("step,key,value,time\n", 0) == 0);
  for (int step = 1; step <= 5; ++step)
    CHECK(contains(csv, "\n" + std::to_string(step) + ",train_loss,"));
  CHECK(contains(csv, "\n5,val_loss,"));
  // manifest.json
  const std::string json = read_file(run_dir / "manifest.json");
  CHECK(contains(json, "\"id\": \"" + id + "\""));
  CHECK(contains(json, "\"status\": \"FINISHED\""));
  CHECK(contains(json, "\"error\": \"\""));
  CHECK(std::regex_search(json, std::regex(R"re("model_path": "[^"]+\.pt")re")));
  CHECK_FALSE(contains(json, "\"model_path\": \"\""));
  // checkpoints
  CHECK(fs::is_regular_file(run_dir / "checkpoints" / "last.pt"));
  CHECK(fs::file_size(run_dir / "checkpoints" / "last.pt") > 0);

  // The SQLite manifest.
  const fs::path db = cwd / "outputs" / "runs.sqlite";
  REQUIRE(fs::exists(db));
  {
    Manifest manifest(db);
    const auto runs = manifest.list_runs();
    REQUIRE(runs.size() == 1);
    const RunRecord& run = runs[0];
    CHECK(run.id == id);
    CHECK(run.task == "regression");
    CHECK(run.status == "FINISHED");
    CHECK(run.error.empty());
    CHECK(run.end_time >= run.start_time);
    CHECK(run.start_time > 0);
    CHECK(fs::equivalent(run.run_dir, run_dir));
    CHECK_FALSE(run.best_checkpoint.empty());
    CHECK(fs::exists(run.best_checkpoint));
    CHECK(contains(json, "\"model_path\": \"" + run.best_checkpoint + "\""));
    // Every plugin loaded for the run, with its version.
    CHECK(run.plugin_versions == "{\"regression\":\"0.1.0\",\"transcription\":\"0.1.0\"}");
    CHECK(run.config_toml == read_file(run_dir / "config.toml"));
    CHECK(run.config_hash.size() == 16);

    const auto params = manifest.params(id);
    CHECK(params.at("trainer.max_steps") == "5");
    CHECK(params.at("data.num_train") == "64");
    CHECK(params.at("task") == "\"regression\"");
    CHECK(params.at("tags.note") == "\"cli\"");
    CHECK(params.at("model.hidden") == "[64, 64]");
    CHECK(params.count("defaults.model") == 0);

    const auto losses = manifest.metrics(id, "train_loss");
    REQUIRE(losses.size() == 5);
    for (size_t i = 0; i < losses.size(); ++i) {
      CHECK(losses[i].step == static_cast<int64_t>(i + 1));
      CHECK(std::isfinite(losses[i].value));
    }
    CHECK(manifest.metrics(id, "val_loss").size() >= 1);
    const auto last = manifest.last_metrics(id);
    CHECK(last.count("train_loss") == 1);
    CHECK(last.count("test_mse") == 1);
  }

  // runs list / runs show read the same manifest (default location, relative to cwd).
  const std::vector<std::string> no_env{"env", "-u", "MLQ_DB", "-u", "MLQ_PLUGIN_PATH", MLQ_RUNNER};
  const auto list = mlq::test::run_process(concat(no_env, {"runs", "list"}), {}, cwd.path());
  INFO("runner output:\n" << list.out);
  CHECK(list.exit_code == 0);
  CHECK(contains(list.out, id));
  CHECK(contains(list.out, "FINISHED"));
  CHECK(list.out.rfind("ID", 0) == 0);
  CHECK(count_lines(list.out) == 2);

  const auto show =
      mlq::test::run_process(concat(no_env, {"runs", "show", id.substr(0, 4)}), {}, cwd.path());
  INFO("runner output:\n" << show.out);
  CHECK(show.exit_code == 0);
  CHECK(std::regex_search(show.out, std::regex("(^|\\n)id +" + id + "\\n")));
  CHECK(std::regex_search(show.out, std::regex(R"((^|\n)status +FINISHED\n)")));
  CHECK(contains(show.out, "trainer.max_steps"));
  CHECK(contains(show.out, "train_loss"));

  // --db points at the same file from anywhere.
  TempDir elsewhere;
  const auto show_db = mlq::test::run_process(
      concat(no_env, {"runs", "show", id, "--db", db.string()}), {}, elsewhere.path());
  INFO("runner output:\n" << show_db.out);
  CHECK(show_db.exit_code == 0);
  CHECK(contains(show_db.out, id));

  const auto missing =
      mlq::test::run_process(concat(no_env, {"runs", "show", "zzzz"}), {}, cwd.path());
  INFO("runner output:\n" << missing.out);
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.out, "no run 'zzzz'"));
}

TEST_CASE("MLQ_DB puts the manifest elsewhere") {
  Cli cli;
  const auto result = cli.run(concat({kConfig}, tiny()));
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(fs::exists(cli.db()));
  CHECK_FALSE(fs::exists(cli.dir / "outputs" / "runs.sqlite"));
  REQUIRE(run_dirs(cli.dir.path()).size() == 1);
  Manifest manifest(cli.db());
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].id == id_of(run_dirs(cli.dir.path())[0]));

  const auto list = cli.run({"runs", "list"});
  INFO("runner output:\n" << list.out);
  CHECK(list.exit_code == 0);
  CHECK(contains(list.out, runs[0].id));
}

TEST_CASE("--multirun goes on past a combination with a bad value, which leaves no run") {
  Cli cli;
  const auto result =
      cli.run(concat({"--multirun", kConfig, "trainer.optimizer.lr=1e-3,-1,1e-2"}, tiny()));
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 2);
  CHECK(contains(result.out, "error: config key 'trainer.optimizer.lr' = -1"));
  CHECK(contains(result.out, "multirun 3/3"));
  Manifest manifest(cli.db());
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 2);
  for (const auto& run : runs) CHECK(run.status == "FINISHED");
}

TEST_CASE("--multirun makes one run per value") {
  Cli cli;
  const auto result =
      cli.run(concat({kConfig, "--multirun", "trainer.optimizer.lr=1e-3,1e-2"}, tiny()));
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "multirun 1/2"));
  CHECK(contains(result.out, "multirun 2/2"));

  const auto dirs = run_dirs(cli.dir.path());
  REQUIRE(dirs.size() == 2);
  Manifest manifest(cli.db());
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].id != runs[1].id);
  CHECK(runs[0].config_hash != runs[1].config_hash);
  std::set<std::string> lrs, ids;
  for (const auto& run : runs) {
    CHECK(run.status == "FINISHED");
    lrs.insert(manifest.params(run.id).at("trainer.optimizer.lr"));
    ids.insert(run.id);
  }
  CHECK(lrs == std::set<std::string>{"0.001", "0.01"});
  CHECK(ids == std::set<std::string>{id_of(dirs[0]), id_of(dirs[1])});

  std::set<std::string> first_lines;
  for (const auto& dir : dirs) {
    const std::string overrides = read_file(dir / "overrides.txt");
    first_lines.insert(overrides.substr(0, overrides.find('\n')));
    CHECK(count_lines(overrides) == 1 + tiny().size());
  }
  CHECK(first_lines ==
        std::set<std::string>{"trainer.optimizer.lr=1e-3", "trainer.optimizer.lr=1e-2"});
}

TEST_CASE("a config error found while the trainer is built leaves no run behind") {
  Cli cli;
  const std::string out =
      one_line_error(cli, cli.run(concat({kConfig, "trainer.optimizer.name=adamm"}, tiny())));
  CHECK(contains(out, "unknown optimizer 'adamm', expected sgd, adam or adamw"));
  CHECK(contains(out, "did you mean 'adam'?"));
  CHECK(contains(out, "override 'trainer.optimizer.name=adamm'"));
}

TEST_CASE("non-finite loss with trainer.nonfinite_loss=stop fails the run") {
  Cli cli;
  const auto result =
      cli.run(concat({kConfig, "++data.corrupt_every=3", "trainer.nonfinite_loss=stop"}, tiny()));
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 1);
  CHECK(contains(result.out, "non-finite training loss"));
  CHECK(contains(result.out, "trainer.nonfinite_loss = \"stop\""));
  Manifest manifest(cli.db());
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "FAILED");
  CHECK(contains(runs[0].error, "non-finite training loss"));
  CHECK(contains(runs[0].error, "at step 1"));
  const auto counted = manifest.metrics(runs[0].id, "nonfinite_batches");
  REQUIRE(counted.size() == 1);
  CHECK(counted[0].value == 1);

  // The failure is recorded everywhere a user looks.
  CHECK(runs[0].end_time > 0);
  const auto dirs = run_dirs(cli.dir.path());
  REQUIRE(dirs.size() == 1);
  const std::string json = read_file(dirs[0] / "manifest.json");
  CHECK(contains(json, "\"status\": \"FAILED\""));
  CHECK(contains(json, "non-finite training loss"));
  CHECK(contains(read_file(dirs[0] / "run.log"), "non-finite training loss"));
  const auto list = cli.run({"runs", "list", "--status", "failed"});
  INFO("runner output:\n" << list.out);
  CHECK(contains(list.out, runs[0].id));
  const auto show = cli.run({"runs", "show", runs[0].id});
  INFO("runner output:\n" << show.out);
  CHECK(std::regex_search(show.out, std::regex(R"((^|\n)error +.*non-finite training loss)")));
}

TEST_CASE("non-finite loss with trainer.nonfinite_loss=skip skips batches and finishes") {
  Cli cli;
  // One example in three has a NaN target; batches of one leave most batches clean.
  const auto result =
      cli.run(concat({kConfig, "++data.corrupt_every=3", "trainer.nonfinite_loss=skip",
                      "++trainer.max_nonfinite=1000", "trainer.batch_size=1"},
                     concat(tiny(), {"trainer.max_steps=20"})));
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "batch skipped"));
  Manifest manifest(cli.db());
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "FINISHED");
  const auto counted = manifest.metrics(runs[0].id, "nonfinite_batches");
  REQUIRE_FALSE(counted.empty());
  // The count goes 1, 2, 3, ...
  for (size_t i = 0; i < counted.size(); ++i) CHECK(counted[i].value == static_cast<double>(i + 1));
  const auto losses = manifest.metrics(runs[0].id, "train_loss");
  CHECK(losses.size() == 20);
  for (const auto& point : losses) CHECK(std::isfinite(point.value));
  CHECK(contains(read_file(fs::path(runs[0].run_dir) / "metrics.csv"), ",nonfinite_batches,1,"));
}

TEST_CASE("non-finite loss beyond trainer.max_nonfinite fails the run") {
  Cli cli;
  // Every batch of 32 holds a NaN target: the 3rd skipped batch is one too many.
  const auto result = cli.run(concat({kConfig, "++data.corrupt_every=3",
                                      "trainer.nonfinite_loss=skip", "++trainer.max_nonfinite=2"},
                                     tiny()));
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 1);
  CHECK(contains(result.out, "more than trainer.max_nonfinite = 2 batches skipped"));
  Manifest manifest(cli.db());
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "FAILED");
  CHECK(manifest.metrics(runs[0].id, "nonfinite_batches").size() == 3);
}

TEST_CASE("a LibTorch error fails the run with one line, not a backtrace") {
  Cli cli;
  // The model takes 4 inputs, the data has 8: the first matrix product fails inside LibTorch.
  const auto result = cli.run(concat({kConfig, "model.input_dim=4"}, tiny()));
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 1);
  CHECK(contains(result.out, "LibTorch: "));
  CHECK_FALSE(contains(result.out, "frame #"));
  Manifest manifest(cli.db());
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "FAILED");
  CHECK(runs[0].error.find('\n') == std::string::npos);
}

TEST_CASE("tags label runs in the manifest without changing the experiment's identity") {
  Cli cli;
  REQUIRE(cli.run(concat({kConfig, "+tags.baseline=yes", "+tags.round=2"}, tiny())).exit_code == 0);
  REQUIRE(cli.run(concat({kConfig}, tiny())).exit_code == 0);
  Manifest manifest(cli.db());
  auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 2);
  const auto& tagged = runs[1];  // newest first
  CHECK(manifest.tags(tagged.id) ==
        std::map<std::string, std::string>{{"baseline", "yes"}, {"round", "2"}});
  CHECK(manifest.tags(runs[0].id).empty());
  CHECK(tagged.config_hash == runs[0].config_hash);
}

TEST_CASE("runner summary lists the model's layers and parameters") {
  mlq::test::TempDir dir;
  auto result = mlq::test::run_runner(
      {"summary", "--config=" MLQ_SOURCE_DIR "/configs/regression.toml", "model.hidden=[8]"},
      dir.path());
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  CHECK_MESSAGE(result.out.find("trainable parameters: ") != std::string::npos, result.out);
  CHECK_MESSAGE(result.out.find("not reported by the model") != std::string::npos, result.out);
  auto bad = mlq::test::run_runner(
      {"summary", "--config=" MLQ_SOURCE_DIR "/configs/regression.toml", "model.hiden=1"},
      dir.path());
  CHECK(bad.exit_code == 2);
  CHECK_MESSAGE(bad.out.find("model.hiden") != std::string::npos, bad.out);
}
