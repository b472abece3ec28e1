#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "mlq/tracking/manifest.hpp"
#include "mlq/util/error.hpp"
#include "runs/runs_command.hpp"
#include "support/manifest_helpers.hpp"
#include "support/manifest_location.hpp"
#include "support/temp_dir.hpp"
#include "tracking/database.hpp"

using mlq::Manifest;
using mlq::MetricPoint;
using mlq::RunRecord;
using mlq::test::dead_pid;
using mlq::test::error_of;
using mlq::test::make_run;
using mlq::test::TempDir;

namespace {

// The single value of a query on the manifest's own connection, as text ("" for NULL).
std::string query_text(const Manifest& m, const std::string& sql, const std::string& bind = "") {
  mlq::db::Statement st(m.database(), sql);
  if (!bind.empty()) st.bind(1, bind);
  return st.step() && !st.is_null(0) ? st.text(0) : "";
}

int64_t query_int(const Manifest& m, const std::string& sql, const std::string& bind = "") {
  return std::stoll(query_text(m, sql, bind));
}

}  // namespace

TEST_CASE("manifest: opening creates folders, the schema and WAL mode" *
          doctest::test_suite("sqlite")) {
  TempDir dir;
  auto path = dir / "a/b/runs.sqlite";
  Manifest m(path);
  CHECK(std::filesystem::exists(path));
  CHECK(m.location() == path.string());
  for (const char* table : {"runs", "params", "metrics", "metric_summary", "tags", "artifacts",
                            "sweeps", "sweep_trials", "sweep_rungs"})
    CHECK_MESSAGE(query_int(m, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?",
                            table) == 1,
                  table);
  for (const char* index : {"runs_task", "runs_status", "runs_listing", "runs_config_hash",
                            "metrics_run_key_step", "metric_summary_key_last"})
    CHECK_MESSAGE(query_int(m, "SELECT count(*) FROM sqlite_master WHERE type='index' AND name=?",
                            index) == 1,
                  index);
  CHECK(query_text(m, "PRAGMA journal_mode") == "wal");
  CHECK(query_int(m, "PRAGMA user_version") == 3);
  CHECK(query_int(m, "PRAGMA foreign_keys") == 1);
  CHECK(query_int(m, "PRAGMA synchronous") == 1);  // NORMAL
}

TEST_CASE("manifest: reopening keeps the data - a newer schema version is refused" *
          doctest::test_suite("sqlite")) {
  TempDir dir;
  auto path = dir / "runs.sqlite";
  {
    Manifest m(path);
    m.create_run(make_run("r1"), {});
  }
  {
    Manifest m(path);
    CHECK(m.find_run("r1").has_value());
    mlq::test::exec_sql(m, "PRAGMA user_version = 7");
  }
  std::string message = error_of([&] { Manifest m(path); });
  CHECK(message.find(path.string()) != std::string::npos);
  CHECK(message.find("version 7") != std::string::npos);
}

TEST_CASE("manifest: a corrupt database file is a UserError naming the file" *
          doctest::test_suite("sqlite")) {
  TempDir dir;
  auto path = dir / "runs.sqlite";
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 37 + 11) % 256);
  mlq::test::write_file(path, garbage);
  std::string message = error_of([&] { Manifest m(path); });
  REQUIRE(!message.empty());
  CHECK(message.find(path.string()) != std::string::npos);
  CHECK(message.find("not a database") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("manifest: create_run stores the run and its params with numeric values") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  RunRecord run = make_run("20240101-abc", "regression", 1000.5);
  m.create_run(run, {{"trainer.max_epochs", "3"},
                     {"optimizer.lr", "1e-3"},
                     {"optimizer.name", "\"adam\""},
                     {"data.shuffle", "true"},
                     {"data.size", "1_000"},
                     {"data.mask", "0x10"},
                     {"data.neg", "-2.5"},
                     {"data.when", "1979-05-27"},
                     {"data.dims", "[1, 2]"}});
  auto got = m.find_run("20240101-abc");
  REQUIRE(got);
  CHECK(got->task == "regression");
  CHECK(got->status == mlq::kRunning);
  CHECK(got->start_time == doctest::Approx(1000.5));
  CHECK(got->end_time == 0);
  CHECK(got->host == mlq::host_name());
  CHECK(got->pid == getpid());
  CHECK(got->git_commit == "0123abcd");
  CHECK(got->git_dirty);
  CHECK(got->plugin_versions == run.plugin_versions);
  CHECK(got->run_dir == run.run_dir);
  CHECK(got->config_hash == "hash-regression");
  CHECK(got->config_toml == run.config_toml);
  CHECK(got->error.empty());

  auto params = m.params("20240101-abc");
  CHECK(params.size() == 9);
  CHECK(params["optimizer.name"] == "\"adam\"");
  CHECK(params["trainer.max_epochs"] == "3");
  auto num = [&](const std::string& key) {
    return query_text(m, "SELECT value_num FROM params WHERE run_id='20240101-abc' AND key=?", key);
  };
  CHECK(std::stod(num("trainer.max_epochs")) == 3);
  CHECK(std::stod(num("optimizer.lr")) == doctest::Approx(0.001));
  CHECK(std::stod(num("data.shuffle")) == 1);
  CHECK(std::stod(num("data.size")) == 1000);
  CHECK(std::stod(num("data.mask")) == 16);
  CHECK(std::stod(num("data.neg")) == -2.5);
  CHECK(num("optimizer.name").empty());  // NULL
  CHECK(num("data.when").empty());
  CHECK(num("data.dims").empty());

  // A duplicate id fails as a whole: nothing half-written.
  CHECK_THROWS_AS(m.create_run(run, {{"x", "1"}}), mlq::UserError);
  CHECK(m.params("20240101-abc").count("x") == 0);
}

TEST_CASE("manifest: status transitions set end_time and the error") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  m.create_run(make_run("ok"), {});
  m.create_run(make_run("bad"), {});
  double before = mlq::now_seconds();
  m.set_status("ok", mlq::kFinished);
  m.set_status("bad", mlq::kFailed, "loss is NaN at step 12");
  auto ok = m.find_run("ok");
  auto bad = m.find_run("bad");
  REQUIRE(ok);
  REQUIRE(bad);
  CHECK(ok->status == "FINISHED");
  CHECK(ok->end_time >= before - 0.001);
  CHECK(ok->end_time <= mlq::now_seconds() + 0.001);
  CHECK(ok->error.empty());
  CHECK(bad->status == "FAILED");
  CHECK(bad->end_time >= before - 0.001);
  CHECK(bad->error == "loss is NaN at step 12");

  CHECK_THROWS_AS(m.set_status("ok", "DONE"), mlq::UserError);
  CHECK_THROWS_AS(m.set_status("missing", mlq::kFinished), mlq::UserError);

  // reopen_run: back to RUNNING with a new pid, no end time, no error; only once.
  CHECK(m.reopen_run("bad", 4242));
  CHECK_FALSE(m.reopen_run("bad", 4343));  // already claimed by another resume
  bad = m.find_run("bad");
  CHECK(bad->status == "RUNNING");
  CHECK(bad->pid == 4242);
  CHECK(bad->end_time == 0);
  CHECK(bad->error.empty());
  CHECK(bad->heartbeat >= before - 0.001);
  CHECK_THROWS_AS(m.reopen_run("missing", 1), mlq::UserError);

  m.set_best_checkpoint("ok", "ckpt/best.pt");
  CHECK(m.find_run("ok")->best_checkpoint == "ckpt/best.pt");
}

TEST_CASE("manifest: heartbeat moves forward") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  m.create_run(make_run("r", "t", 100), {});
  CHECK(m.find_run("r")->heartbeat == doctest::Approx(100));
  m.heartbeat("r");
  CHECK(m.find_run("r")->heartbeat > mlq::now_seconds() - 60);
}

TEST_CASE("manifest: metrics log, order, truncate and last values") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  m.create_run(make_run("r"), {});
  m.create_run(make_run("other"), {});
  m.log_metrics("r", {{"train_loss", 2, 0.5, 0},
                      {"train_loss", 1, 0.9, 0},
                      {"val_loss", 1, 0.8, 12.0},
                      {"train_loss", 3, 0.3, 0},
                      {"val_loss", 3, 0.4, 0}});
  m.log_metrics("other", {{"train_loss", 1, 7.0, 0}});
  m.log_metrics("r", {});

  auto all = m.metrics("r");
  REQUIRE(all.size() == 5);
  CHECK(all[0].step == 1);
  CHECK(all[0].key == "train_loss");
  CHECK(all[1].key == "val_loss");
  CHECK(all[1].time == 12.0);
  CHECK(all[2].step == 2);
  CHECK(all[4].step == 3);
  CHECK(all[4].key == "val_loss");
  CHECK(all[0].time > 1e9);  // filled in with now

  auto train = m.metrics("r", "train_loss");
  REQUIRE(train.size() == 3);
  CHECK(train[0].value == 0.9);
  CHECK(train[2].value == 0.3);

  auto last = m.last_metrics("r");
  CHECK(last.size() == 2);
  CHECK(last["train_loss"] == 0.3);
  CHECK(last["val_loss"] == 0.4);

  // A resumed run drops what came after its checkpoint and logs it again.
  m.truncate_metrics_after("r", 1);
  CHECK(m.metrics("r").size() == 2);
  CHECK(m.metrics("other").size() == 1);
  m.log_metrics("r", {{"train_loss", 2, 0.45, 0}});
  CHECK(m.last_metrics("r")["train_loss"] == 0.45);
  CHECK(m.last_metrics("r")["val_loss"] == 0.8);

  // The same step logged twice: the later one is the last value.
  m.log_metrics("r", {{"train_loss", 2, 0.44, 0}});
  CHECK(m.last_metrics("r")["train_loss"] == 0.44);

  // The last value is the one of the highest step, whatever order the points were logged in.
  m.log_metrics("r", {{"lr", 5, 0.01, 0}, {"lr", 4, 0.02, 0}});
  CHECK(m.last_metrics("r")["lr"] == 0.01);
  CHECK(m.metrics("r", "lr").front().step == 4);

  // Metrics of an unknown run violate the foreign key; the whole batch is rolled back.
  CHECK_THROWS_AS(m.log_metrics("nope", {{"a", 1, 1, 0}}), mlq::UserError);
  CHECK(query_int(m, "SELECT count(*) FROM metrics WHERE run_id='nope'") == 0);
}

namespace {

// metric_summary must always equal what the history says; this recomputes it from the history.
void check_summary_matches_history(const Manifest& m) {
  const std::string mismatches = query_text(m, R"sql(
    SELECT count(*) FROM (SELECT * FROM (
      SELECT run_id, key, max(step) AS last_step, min(value) AS min_value, max(value) AS max_value,
             (SELECT h.value FROM metrics h WHERE h.run_id = g.run_id AND h.key = g.key
              ORDER BY h.step DESC, h.rowid DESC LIMIT 1) AS last_value
      FROM metrics g GROUP BY run_id, key) want
    FULL OUTER JOIN metric_summary got USING (run_id, key)
    WHERE got.last_step IS DISTINCT FROM want.last_step
       OR got.last_value IS DISTINCT FROM want.last_value
       OR got.min_value IS DISTINCT FROM want.min_value
       OR got.max_value IS DISTINCT FROM want.max_value) mismatched)sql");
  CHECK(mismatches == "0");
}

}  // namespace

TEST_CASE("manifest: the per-run metric summary agrees with the history through every change") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  for (const char* id : {"a", "b", "c"}) m.create_run(make_run(id), {});
  std::mt19937 rng(7);
  const char* keys[] = {"loss", "acc", "lr"};
  for (int round = 0; round < 40; ++round) {
    std::vector<MetricPoint> batch;
    for (int i = 0; i < 5; ++i) {
      const int64_t step = static_cast<int64_t>(rng() % 12);  // repeats and goes backwards
      double value = static_cast<double>(rng() % 1000) / 100.0;
      if (rng() % 9 == 0) value = std::nan("");
      batch.push_back({keys[rng() % 3], step, value, 0});
    }
    const std::string run = std::string(1, static_cast<char>('a' + rng() % 3));
    m.log_metrics(run, batch);
    if (round % 7 == 6) m.truncate_metrics_after(run, static_cast<int64_t>(rng() % 8));
    check_summary_matches_history(m);
  }
  CHECK(query_int(m, "SELECT count(*) FROM metric_summary") > 3);
  CHECK(query_int(m, "SELECT count(*) FROM metric_summary WHERE min_value < max_value") > 0);
  m.delete_run("b");
  CHECK(query_int(m, "SELECT count(*) FROM metric_summary WHERE run_id = 'b'") == 0);
  check_summary_matches_history(m);
}

TEST_CASE("manifest: a version 1 database is upgraded in place with its metric summary" *
          doctest::test_suite("sqlite")) {
  TempDir dir;
  const auto path = dir / "runs.sqlite";
  {
    Manifest m(path);
    m.create_run(make_run("old"), {});
    m.log_metrics("old", {{"val_loss", 1, 0.5, 0}, {"val_loss", 2, 0.7, 0}, {"acc", 2, 0.9, 0}});
    // Back to what version 1 had: no summary table, the old indexes, rowid params and tags.
    mlq::test::exec_sql(m,
                        "DROP TABLE metric_summary; DROP INDEX runs_listing; "
                        "CREATE INDEX runs_start_time ON runs(start_time); "
                        "CREATE INDEX metrics_key_value ON metrics(key, value); "
                        "DROP TABLE params; DROP TABLE tags; "
                        "CREATE TABLE params (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE "
                        "CASCADE, key TEXT NOT NULL, value TEXT NOT NULL, value_num REAL, "
                        "PRIMARY KEY (run_id, key)); "
                        "CREATE TABLE tags (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE "
                        "CASCADE, key TEXT NOT NULL, value TEXT NOT NULL, "
                        "PRIMARY KEY (run_id, key)); "
                        "INSERT INTO params VALUES ('old', 'optimizer.lr', '0.01', 0.01); "
                        "INSERT INTO tags VALUES ('old', 'ci', 'yes'); "
                        "PRAGMA user_version = 1");
  }
  Manifest m(path);
  CHECK(m.params("old") == std::map<std::string, std::string>{{"optimizer.lr", "0.01"}});
  CHECK(m.tags("old") == std::map<std::string, std::string>{{"ci", "yes"}});
  CHECK(
      query_text(m, "SELECT sql FROM sqlite_master WHERE name = 'params'").find("WITHOUT ROWID") !=
      std::string::npos);
  CHECK(query_text(m, "SELECT sql FROM sqlite_master WHERE name = 'tags'").find("WITHOUT ROWID") !=
        std::string::npos);
  CHECK(query_int(m, "PRAGMA user_version") == 3);
  CHECK(query_int(m,
                  "SELECT count(*) FROM sqlite_master WHERE name IN "
                  "('metrics_key_value', 'runs_start_time')") == 0);
  CHECK(query_int(m, "SELECT count(*) FROM sqlite_master WHERE name = 'runs_listing'") == 1);
  CHECK(m.last_metrics("old") == std::map<std::string, double>{{"acc", 0.9}, {"val_loss", 0.7}});
  CHECK(query_text(m, "SELECT min_value FROM metric_summary WHERE key = 'val_loss'") == "0.5");
  check_summary_matches_history(m);
  m.delete_run("old");  // the foreign keys still cascade
  CHECK(query_int(m, "SELECT count(*) FROM params") == 0);
  CHECK(query_int(m, "SELECT count(*) FROM tags") == 0);
}

TEST_CASE("manifest: tags are upserted, artifacts listed") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  m.create_run(make_run("r"), {});
  m.set_tag("r", "note", "first");
  m.set_tag("r", "owner", "ana");
  m.set_tag("r", "note", "second");
  auto tags = m.tags("r");
  CHECK(tags.size() == 2);
  CHECK(tags["note"] == "second");
  CHECK(tags["owner"] == "ana");

  m.add_artifact("r", {"ckpt/last.pt", "checkpoint", "sha256:aa"});
  m.add_artifact("r", {"predictions.csv", "predictions", "sha256:bb"});
  m.add_artifact("r", {"ckpt/last.pt", "checkpoint", "sha256:cc"});
  auto artifacts = m.artifacts("r");
  REQUIRE(artifacts.size() == 2);
  CHECK(artifacts[0].path == "ckpt/last.pt");
  CHECK(artifacts[0].checksum == "sha256:cc");
  CHECK(artifacts[1].kind == "predictions");
  CHECK(m.artifacts("other").empty());
}

TEST_CASE("manifest: find_run by prefix - ambiguity is an error") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  m.create_run(make_run("abc123"), {});
  m.create_run(make_run("abd456"), {});
  m.create_run(make_run("ab"), {});
  m.create_run(make_run("x_1"), {});
  CHECK(m.find_run("abc")->id == "abc123");
  CHECK(m.find_run("abd456")->id == "abd456");
  CHECK(m.find_run("ab")->id == "ab");  // an exact id wins over prefixes
  CHECK_FALSE(m.find_run("zzz"));
  CHECK_FALSE(m.find_run(""));
  CHECK_FALSE(m.find_run("x%"));  // no LIKE wildcards
  CHECK_FALSE(m.find_run("_"));
  CHECK(m.find_run("x_")->id == "x_1");
  CHECK_FALSE(m.find_run("ABC"));  // case-sensitive
  m.create_run(make_run("abc999"), {});
  std::string message = error_of([&] { m.find_run("abc"); });
  CHECK(message.find("ambiguous") != std::string::npos);
  CHECK(message.find("abc123") != std::string::npos);
  CHECK(message.find("abc999") != std::string::npos);
  CHECK(message.find("abd456") == std::string::npos);
}

TEST_CASE("manifest: list_runs filters, newest first, limit") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  m.create_run(make_run("old", "regression", 100), {});
  m.create_run(make_run("new", "regression", 300), {});
  m.create_run(make_run("mid", "mnist", 200), {});
  m.set_status("old", mlq::kFinished);

  auto all = m.list_runs();
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == "new");
  CHECK(all[1].id == "mid");
  CHECK(all[2].id == "old");

  auto reg = m.list_runs("regression");
  REQUIRE(reg.size() == 2);
  CHECK(reg[0].id == "new");
  CHECK(reg[1].id == "old");

  auto finished = m.list_runs("", mlq::kFinished);
  REQUIRE(finished.size() == 1);
  CHECK(finished[0].id == "old");

  CHECK(m.list_runs("regression", mlq::kRunning).size() == 1);
  CHECK(m.list_runs("nothing").empty());
  auto limited = m.list_runs("", "", 2);
  REQUIRE(limited.size() == 2);
  CHECK(limited[1].id == "mid");
}

TEST_CASE("manifest: mark_dead_runs kills runs whose process is gone or heartbeat stale") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  double now = mlq::now_seconds();

  RunRecord gone = make_run("gone", "t", now - 50);
  gone.pid = dead_pid();
  gone.heartbeat = now - 10;
  RunRecord stale = make_run("stale", "t", now - 5000);
  stale.host = "some-other-host";
  stale.pid = 1;
  stale.heartbeat = now - 3000;
  RunRecord alive = make_run("alive", "t", now - 5000);  // this very process
  alive.heartbeat = now - 5;
  RunRecord elsewhere = make_run("elsewhere", "t", now - 50);  // pid means nothing here
  elsewhere.host = "some-other-host";
  elsewhere.pid = gone.pid;
  elsewhere.heartbeat = now - 5;
  RunRecord done = make_run("done", "t", now - 5000);
  done.heartbeat = now - 4000;
  done.pid = gone.pid;
  for (const auto& run : {gone, stale, alive, elsewhere, done}) m.create_run(run, {});
  m.set_status("done", mlq::kFinished);

  CHECK(m.mark_dead_runs(600) == 2);
  auto g = m.find_run("gone");
  CHECK(g->status == "KILLED");
  CHECK(g->end_time == doctest::Approx(now - 10));
  CHECK(g->error.find("gone") != std::string::npos);
  auto s = m.find_run("stale");
  CHECK(s->status == "KILLED");
  CHECK(s->end_time == doctest::Approx(now - 3000));
  CHECK(m.find_run("alive")->status == "RUNNING");
  CHECK(m.find_run("elsewhere")->status == "RUNNING");
  CHECK(m.find_run("done")->status == "FINISHED");
  CHECK(m.mark_dead_runs(600) == 0);
  // A short stale limit reaches other hosts' runs, never a live process of this host (a long
  // validation without heartbeats must not let resume=auto take over a running run).
  CHECK(m.mark_dead_runs(1) == 1);
  CHECK(m.find_run("elsewhere")->status == "KILLED");
  CHECK(m.find_run("alive")->status == "RUNNING");
}

TEST_CASE("manifest: latest_unfinished finds the newest KILLED or FAILED run, never a live one") {
  TempDir dir;
  Manifest m(mlq::test::manifest_location(dir / "runs.sqlite"));
  auto run = [](const std::string& id, double start, const std::string& hash) {
    RunRecord r = make_run(id, "regression", start);
    r.config_hash = hash;
    return r;
  };
  m.create_run(run("a", 100, "h1"), {});
  m.create_run(run("b", 200, "h1"), {});
  m.create_run(run("c", 300, "h1"), {});
  m.create_run(run("d", 400, "h2"), {});
  m.create_run(make_run("e", "mnist", 500), {});
  m.set_status("c", mlq::kFinished);
  m.set_status("b", mlq::kFailed, "boom");
  CHECK(m.latest_unfinished("regression", "h1")->id == "b");
  CHECK_FALSE(m.latest_unfinished("regression", "h2"));  // d is RUNNING
  m.set_status("b", mlq::kFinished);
  CHECK_FALSE(m.latest_unfinished("regression", "h1"));  // a is RUNNING
  m.set_status("a", mlq::kKilled);
  CHECK(m.latest_unfinished("regression", "h1")->id == "a");
  m.set_status("a", mlq::kFinished);
  CHECK_FALSE(m.latest_unfinished("regression", "h1"));
  CHECK_FALSE(m.latest_unfinished("mnist", "h1"));
}

namespace {

// Forks `children` processes that each open the manifest, create a run and log 300 points in
// batches of 10. Returns how many children failed.
int run_writers(const std::string& path, int children) {
  std::vector<pid_t> pids;
  for (int c = 0; c < children; ++c) {
    pid_t pid = fork();
    if (pid == 0) {
      try {
        Manifest m(path);
        std::string id = "child-" + std::to_string(c);
        m.create_run(make_run(id), {{"child", std::to_string(c)}});
        for (int batch = 0; batch < 30; ++batch) {
          std::vector<MetricPoint> points;
          for (int i = 0; i < 10; ++i) {
            int step = batch * 10 + i;
            points.push_back({"loss", step, static_cast<double>(step), 0});
          }
          m.log_metrics(id, points);
          m.heartbeat(id);
        }
        m.set_tag(id, "done", "yes");
        m.set_status(id, mlq::kFinished);
      } catch (const std::exception& e) {
        fprintf(stderr, "child %d: %s\n", c, e.what());
        _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  int failed = 0;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  return failed;
}

void check_writers(const std::string& path, int children) {
  Manifest m(path);
  CHECK(m.list_runs().size() == static_cast<size_t>(children));
  CHECK(query_int(m, "SELECT count(*) FROM metrics") == 300 * children);
  for (int c = 0; c < children; ++c) {
    std::string id = "child-" + std::to_string(c);
    auto run = m.find_run(id);
    REQUIRE(run);
    CHECK(run->status == "FINISHED");
    auto points = m.metrics(id, "loss");
    REQUIRE(points.size() == 300);
    for (int i = 0; i < 300; ++i) CHECK(points[i].step == i);
    CHECK(m.tags(id)["done"] == "yes");
  }
}

}  // namespace

TEST_CASE("manifest: several processes writing at once lose nothing") {
  TempDir dir;
  const std::string path = mlq::test::manifest_location(dir / "runs.sqlite");
  { Manifest create(path); }  // no connection is open across fork()
  CHECK(run_writers(path, 4) == 0);
  check_writers(path, 4);
}

TEST_CASE("manifest: several processes creating the database at once") {
  TempDir dir;
  const std::string path = mlq::test::manifest_location(dir / "new/runs.sqlite");
  CHECK(run_writers(path, 4) == 0);
  check_writers(path, 4);
}
