// Training runs through the runner: what a run leaves on disk and in the manifest, multirun,
// failures, tags and summary.
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
TEST_CASE("runner runs list without a manifest") {
  Cli cli;
  const auto result = cli.run({"runs", "list"});
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 0);
  if (testing_postgresql()) {  // a server's manifest always exists
    CHECK(contains(result.out, "no runs (" + cli.db()));
  } else {
    CHECK(result.out == "no runs yet (" + cli.db() + ")\n");
    CHECK_FALSE(fs::exists(cli.db()));
  }
}

TEST_CASE("a short training run: run folder, files and manifest" * doctest::test_suite("sqlite")) {
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
    CHECK(run.plugin_versions ==
          "{\"classification\":\"0.1.0\",\"regression\":\"0.1.0\",\"transcription\":\"0.1.0\"}");
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
  if (!testing_postgresql()) CHECK(fs::exists(cli.db()));
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
