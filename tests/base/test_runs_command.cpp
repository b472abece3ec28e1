// runner runs list|show|export|tag|delete on a real manifest (compare and --where/--columns:
// test_run_query.cpp).
#include <doctest/doctest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "mlq/tracking/manifest.hpp"
#include "mlq/util/error.hpp"
#include "runs/runs_command.hpp"
#include "support/manifest_helpers.hpp"
#include "support/manifest_location.hpp"
#include "support/temp_dir.hpp"

using mlq::Manifest;
using mlq::RunRecord;
using mlq::test::dead_pid;
using mlq::test::error_of;
using mlq::test::make_run;
using mlq::test::TempDir;

TEST_CASE("runs_command: list on a missing database does not create it" *
          doctest::test_suite("sqlite")) {
  TempDir dir;
  const std::string path = (dir / "outputs/runs.sqlite").string();
  std::ostringstream out;
  CHECK(mlq::runs_command({"list"}, path, out) == 0);
  CHECK(out.str() == "no runs yet (" + path + ")\n");
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(dir / "outputs"));
  std::ostringstream json;
  CHECK(mlq::runs_command({"list", "--format", "json"}, path, json) == 0);
  CHECK(json.str() == "[]\n");
  CHECK_THROWS_AS(mlq::runs_command({"show", "abc"}, path, out), mlq::UserError);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("runs_command: list on an empty database") {
  TempDir dir;
  const std::string path = mlq::test::manifest_location(dir / "runs.sqlite");
  { Manifest m(path); }
  std::ostringstream out;
  CHECK(mlq::runs_command({"list"}, path, out) == 0);
  CHECK(out.str().find("no runs") != std::string::npos);
}

namespace {

std::string sample_db(const TempDir& dir) {
  const std::string path = mlq::test::manifest_location(dir / "runs.sqlite");
  Manifest m(path);
  double now = mlq::now_seconds();
  RunRecord a = make_run("aaa111", "regression", now - 100);
  RunRecord b = make_run("bbb222", "regression", now - 50);
  RunRecord c = make_run("ccc333", "mnist", now - 10);
  m.create_run(a, {{"optimizer.lr", "0.01"}, {"optimizer.name", "\"sgd\""}});
  m.create_run(b, {});
  m.create_run(c, {});
  m.log_metrics("aaa111", {{"train_loss", 1, 0.5, 0},
                           {"val_loss", 1, 0.25, 0},
                           {"val_loss", 2, 0.125, 0},
                           {"test_mse", 2, 0.0625, 0}});
  m.set_status("aaa111", mlq::kFinished);
  m.set_status("bbb222", mlq::kFailed, "out of memory");
  m.set_tag("aaa111", "note", "baseline");
  m.add_artifact("aaa111", {"ckpt/best.pt", "checkpoint", "sha256:1234"});
  return path;
}

}  // namespace

TEST_CASE("runs_command: list shows the runs newest first with their metrics") {
  TempDir dir;
  auto path = sample_db(dir);
  std::ostringstream out;
  CHECK(mlq::runs_command({"list"}, path, out) == 0);
  std::string text = out.str();
  INFO(text);
  size_t a = text.find("aaa111"), b = text.find("bbb222"), c = text.find("ccc333");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(c != std::string::npos);
  CHECK(c < b);
  CHECK(b < a);
  CHECK(text.find("test_mse") != std::string::npos);
  CHECK(text.find("val_loss") != std::string::npos);
  CHECK(text.find("train_loss") == std::string::npos);
  CHECK(text.find("0.125") != std::string::npos);
  CHECK(text.find("1m40s") != std::string::npos);  // aaa111 ran about 100 s
  CHECK(text.find("FAILED") != std::string::npos);

  std::ostringstream filtered;
  mlq::runs_command({"list", "--task", "regression", "--status", "FINISHED", "--limit", "20"}, path,
                    filtered);
  CHECK(filtered.str().find("aaa111") != std::string::npos);
  CHECK(filtered.str().find("bbb222") == std::string::npos);
  CHECK(filtered.str().find("ccc333") == std::string::npos);

  std::ostringstream limited;
  mlq::runs_command({"list", "--limit=1"}, path, limited);
  CHECK(limited.str().find("ccc333") != std::string::npos);
  CHECK(limited.str().find("aaa111") == std::string::npos);

  std::ostringstream csv;
  mlq::runs_command({"list", "--format", "csv", "--task", "regression"}, path, csv);
  CHECK(csv.str().rfind("id,task,status,", 0) == 0);
  CHECK(csv.str().find("\naaa111,regression,FINISHED,") != std::string::npos);
  CHECK(csv.str().find(",0.125") != std::string::npos);

  std::ostringstream json;
  mlq::runs_command({"list", "--format=json"}, path, json);
  const auto listed = nlohmann::json::parse(json.str());
  REQUIRE(listed.size() == 3);
  CHECK(listed[2]["id"] == "aaa111");
  CHECK(listed[2]["task"] == "regression");
  CHECK(listed[2]["metrics"]["val_loss"] == 0.125);
  CHECK(listed[2]["end_time"].is_number());
  CHECK(listed[0]["end_time"].is_null());  // ccc333 is still running

  // Options given before the subcommand, and a direction after --order-by.
  std::ostringstream ordered;
  CHECK(mlq::runs_command(
            {"--db", path, "list", "--order-by", "start_time", "asc", "--format", "csv"},
            dir / "elsewhere.sqlite", ordered) == 0);
  CHECK(ordered.str().find("aaa111") < ordered.str().find("ccc333"));
  std::ostringstream help;
  CHECK(mlq::runs_command({"show", "--help"}, path, help) == 0);
  CHECK(help.str().find("--db") != std::string::npos);
}

TEST_CASE("runs_command: bad usage is a UserError") {
  TempDir dir;
  auto path = sample_db(dir);
  std::ostringstream out;
  CHECK_THROWS_AS(mlq::runs_command({"remove"}, path, out), mlq::UserError);
  CHECK_THROWS_AS(mlq::runs_command({"list", "--color"}, path, out), mlq::UserError);
  CHECK_THROWS_AS(mlq::runs_command({"list", "--limit"}, path, out), mlq::UserError);
  CHECK_THROWS_AS(mlq::runs_command({"list", "--limit", "0"}, path, out), mlq::UserError);
  CHECK_THROWS_AS(mlq::runs_command({"list", "--limit", "5x"}, path, out), mlq::UserError);
  CHECK_THROWS_AS(mlq::runs_command({"list", "--format", "xml"}, path, out), mlq::UserError);
  CHECK_THROWS_AS(mlq::runs_command({"list", "--status", "DONE"}, path, out), mlq::UserError);
  CHECK_THROWS_WITH_AS(mlq::runs_command({"list", "--order-by", "id", "sideways"}, path, out),
                       doctest::Contains("unexpected argument 'sideways'"), mlq::UserError);
  CHECK_THROWS_WITH_AS(mlq::runs_command({"delete", "--force", "aaa111"}, path, out),
                       doctest::Contains("force"), mlq::UserError);
  CHECK_THROWS_AS(mlq::runs_command({"show"}, path, out), mlq::UserError);
  CHECK(out.str().empty());
}

TEST_CASE("runs_command: show by prefix prints everything about the run") {
  TempDir dir;
  auto path = sample_db(dir);
  std::ostringstream out;
  CHECK(mlq::runs_command({"show", "aaa"}, path, out) == 0);
  std::string text = out.str();
  INFO(text);
  for (const char* expected :
       {"aaa111", "regression", "FINISHED", "outputs/regression/aaa111", "0123abcd", "note",
        "baseline", "optimizer.lr", "0.01", "\"sgd\"", "val_loss", "0.125", "(step 2)", "test_mse",
        "ckpt/best.pt", "sha256:1234", "hash-regression"})
    CHECK_MESSAGE(text.find(expected) != std::string::npos, expected);
  CHECK(text.find("bbb222") == std::string::npos);

  std::ostringstream failed;
  mlq::runs_command({"show", "bbb222"}, path, failed);
  CHECK(failed.str().find("out of memory") != std::string::npos);

  std::string message = error_of([&] { mlq::runs_command({"show", "zzz"}, path, out); });
  CHECK(message.find("zzz") != std::string::npos);
  CHECK(message.find(path) != std::string::npos);
}

TEST_CASE("runs_command: list marks dead runs first") {
  TempDir dir;
  const std::string path = mlq::test::manifest_location(dir / "runs.sqlite");
  {
    Manifest m(path);
    RunRecord run = make_run("ghost");
    run.pid = dead_pid();
    m.create_run(run, {});
  }
  std::ostringstream out;
  mlq::runs_command({"list"}, path, out);
  CHECK(out.str().find("KILLED") != std::string::npos);
  CHECK(Manifest(path).find_run("ghost")->status == "KILLED");
}
