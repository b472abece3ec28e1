// What differs between the manifest's backends, and what moves runs between them: URLs and
// their passwords, a server that is not there or goes away, the PostgreSQL schema, and
// `runner runs copy` (SQLite to the backend under test and back).
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/run.hpp"
#include "runs/runs_command.hpp"
#include "support/manifest_helpers.hpp"
#include "support/manifest_location.hpp"
#include "support/temp_dir.hpp"
#include "tracking/database.hpp"

using mlq::Manifest;
using mlq::test::error_of;
using mlq::test::make_run;
using mlq::test::manifest_location;
using mlq::test::TempDir;

TEST_CASE("manifest URLs: the password never shows" * doctest::test_suite("sqlite")) {
  using mlq::db::masked_url;
  CHECK(masked_url("postgresql://mlq:s3cret@db.lab:5432/runs") ==
        "postgresql://mlq:***@db.lab:5432/runs");
  CHECK(masked_url("postgres://mlq@db.lab/runs") == "postgres://mlq@db.lab/runs");
  CHECK(masked_url("postgresql://db.lab/runs?user=mlq&password=s3cret&sslmode=require") ==
        "postgresql://db.lab/runs?user=mlq&password=***&sslmode=require");
  CHECK(masked_url("postgresql:///runs?password=x") == "postgresql:///runs?password=***");
  CHECK(mlq::db::is_server_url("postgresql://h/db"));
  CHECK(mlq::db::is_server_url("postgres://h/db"));
  CHECK_FALSE(mlq::db::is_server_url("outputs/runs.sqlite"));
  CHECK_FALSE(mlq::db::is_server_url("postgresql.sqlite"));
}

TEST_CASE("manifest: a server that is not there is one line naming it, without the password" *
          doctest::test_suite("sqlite")) {
  const std::string url = "postgresql://mlq:s3cret@127.0.0.1:1/runs";
  CHECK_THROWS_AS(Manifest{url}, mlq::ManifestConnectionLost);
  const std::string message = error_of([&] { Manifest m(url); });
  INFO(message);
  CHECK(message.rfind("run manifest postgresql://mlq:***@127.0.0.1:1/runs: cannot connect: ", 0) ==
        0);
  CHECK(message.find("s3cret") == std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("manifest on PostgreSQL: the schema, its version, a newer one refused" *
          doctest::test_suite("postgresql")) {
  const std::string url = mlq::test::new_postgresql_database();
  {
    Manifest m(url);
    for (const char* table : {"runs", "params", "metrics", "metric_summary", "tags", "artifacts",
                              "sweeps", "sweep_trials", "sweep_rungs"}) {
      mlq::db::Statement st(m.database(),
                            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?");
      st.bind(1, table);
      REQUIRE(st.step());
      CHECK_MESSAGE(st.integer(0) == 1, table);
    }
    CHECK(m.database().schema_version() == 3);
    m.create_run(make_run("r1"), {});
    mlq::test::exec_sql(m, "UPDATE mlq_schema SET version = 7");
  }
  const std::string message = error_of([&] { Manifest m(url); });
  CHECK(message.find(url) != std::string::npos);
  CHECK(message.find("version 7") != std::string::npos);
}

TEST_CASE("manifest on PostgreSQL: a connection the server drops is opened again" *
          doctest::test_suite("postgresql")) {
  const std::string url = mlq::test::new_postgresql_database();
  Manifest m(url);
  m.create_run(make_run("r1"), {});
  {  // The server ends every other session of this database.
    Manifest admin(url);
    mlq::test::exec_sql(admin,
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND pid <> pg_backend_pid()");
  }
  // The next statement finds the connection gone: it fails, and says so.
  CHECK_THROWS_AS(m.heartbeat("r1"), mlq::ManifestConnectionLost);
  // The one after opens a new connection.
  m.log_metrics("r1", {{"loss", 1, 0.5, 0}});
  CHECK(m.metrics("r1").size() == 1);
}

namespace {

// Runs with everything a manifest records, in a SQLite file.
std::string sample_source(const TempDir& dir) {
  const std::string path = (dir / "source.sqlite").string();
  Manifest m(path);
  const double now = mlq::now_seconds();
  int i = 0;
  for (const char* task : {"regression", "transcription", "regression"}) {
    const std::string id = "run" + std::to_string(++i);
    mlq::RunRecord run = make_run(id, task, now - 100 * i);
    m.create_run(run, {{"optimizer.lr", "1e-3"}, {"model.name", "\"mlp\""}, {"seed", "7"}});
    m.log_metrics(id, {{"loss", 1, 0.5, now - 50},
                       {"loss", 1, 0.25, now - 49},  // the same step twice: the later one wins
                       {"loss", 2, std::nan(""), now - 48},
                       {"acc", 2, 0.75 + i, now - 47}});
    m.set_tag(id, "owner", "lab " + std::to_string(i));
    m.set_artifacts(id,
                    {{"checkpoints/last.pt", "checkpoint", "xxh3:0123"}, {"run.log", "log", ""}});
    m.set_status(id, i == 2 ? mlq::kFailed : mlq::kFinished, i == 2 ? "boom" : "");
  }
  return path;
}

void check_same_histories(const Manifest& a, const Manifest& b) {
  const auto runs = a.list_runs();
  REQUIRE(runs.size() == b.list_runs().size());
  for (const mlq::RunRecord& run : runs) {
    CAPTURE(run.id);
    const auto other = b.find_run(run.id);
    REQUIRE(other);
    CHECK(other->task == run.task);
    CHECK(other->status == run.status);
    CHECK(other->start_time == run.start_time);
    CHECK(other->end_time == run.end_time);
    CHECK(other->error == run.error);
    CHECK(other->git_dirty == run.git_dirty);
    CHECK(other->config_toml == run.config_toml);
    const mlq::RunHistory x = a.history(run), y = b.history(*other);
    CHECK(x.params == y.params);
    CHECK(x.tags == y.tags);
    REQUIRE(x.metrics.size() == y.metrics.size());
    for (size_t i = 0; i < x.metrics.size(); ++i) {
      CHECK(x.metrics[i].key == y.metrics[i].key);
      CHECK(x.metrics[i].step == y.metrics[i].step);
      CHECK(x.metrics[i].time == y.metrics[i].time);
      CHECK((x.metrics[i].value == y.metrics[i].value ||
             (std::isnan(x.metrics[i].value) && std::isnan(y.metrics[i].value))));
    }
    REQUIRE(x.artifacts.size() == y.artifacts.size());
    for (size_t i = 0; i < x.artifacts.size(); ++i) {
      CHECK(x.artifacts[i].path == y.artifacts[i].path);
      CHECK(x.artifacts[i].checksum == y.artifacts[i].checksum);
    }
    CHECK(a.last_metrics(run.id).at("acc") == b.last_metrics(run.id).at("acc"));
    CHECK(std::isnan(b.last_metrics(run.id).at("loss")));  // the last point, NaN
  }
}

std::string copy(const std::vector<std::string>& args) {
  std::ostringstream out;
  const int status = mlq::runs_command(args, "unused.sqlite", out);
  return status == 0 ? out.str() : "exit status " + std::to_string(status);
}

}  // namespace

TEST_CASE("runs copy: every record moves, a second copy adds nothing, and back again") {
  TempDir dir;
  const std::string source = sample_source(dir);
  const std::string target = manifest_location(dir / "target.sqlite");
  // Part, then all: what is there already is left alone.
  CHECK(copy({"copy", "--from", source, "--to", target, "--where", "task = 'regression'"})
            .rfind("copied 2 runs from ", 0) == 0);
  CHECK(copy({"copy", "--from", source, "--to", target}).find("copied 1 run from ") == 0);
  CHECK(copy({"copy", "--from", source, "--to", target}).find("copied 0 runs") == 0);
  check_same_histories(Manifest(source), Manifest(target));
  // And back into a new SQLite file: the same again.
  const std::string back = (dir / "back.sqlite").string();
  CHECK(copy({"copy", "--from", target, "--to", back}).find("copied 3 runs") == 0);
  check_same_histories(Manifest(source), Manifest(back));

  CHECK_THROWS_WITH_AS(copy({"copy", "--from", source}), doctest::Contains("--to is missing"),
                       mlq::UserError);
  CHECK_THROWS_WITH_AS(copy({"copy", "--from", source, "--to", source}),
                       doctest::Contains("the same manifest"), mlq::UserError);
  CHECK_THROWS_WITH_AS(copy({"copy", "--from", (dir / "none.sqlite").string(), "--to", back}),
                       doctest::Contains("no manifest at"), mlq::UserError);
  CHECK_THROWS_WITH_AS(copy({"copy", "--from", source, "--to", back, "--where", "lossy > 1"}),
                       doctest::Contains("unknown field 'lossy'"), mlq::UserError);
}

TEST_CASE("manifest on PostgreSQL: libpq's PG* variables fill in what the URL leaves out" *
          doctest::test_suite("postgresql")) {
  const std::string url = mlq::test::new_postgresql_database();  // postgresql://U@H:P/NAME
  const size_t at = url.find('@'), colon = url.rfind(':'), slash = url.rfind('/');
  setenv("PGUSER", url.substr(13, at - 13).c_str(), 1);
  setenv("PGHOST", url.substr(at + 1, colon - at - 1).c_str(), 1);
  setenv("PGPORT", url.substr(colon + 1, slash - colon - 1).c_str(), 1);
  {
    Manifest m("postgresql:///" + url.substr(slash + 1));
    m.create_run(make_run("from-env"), {});
  }
  for (const char* name : {"PGUSER", "PGHOST", "PGPORT"}) unsetenv(name);
  CHECK(Manifest(url).find_run("from-env"));
}

TEST_CASE("a run directory's metrics.csv reads back exactly - a bad line names its place" *
          doctest::test_suite("sqlite")) {
  TempDir dir;
  const auto file = dir / "metrics.csv";
  mlq::test::write_file(file,
                        "step,key,value,time\n1,loss,0.10000000149011612,1700000000.125\n"
                        "2,val_f1,nan,1700000001.000\n3,lr,1e-05,1700000002.500\n");
  const auto points = mlq::read_metrics_csv(file);
  REQUIRE(points.size() == 3);
  CHECK(points[0].key == "loss");
  CHECK(points[0].value == 0.10000000149011612);
  CHECK(points[0].time == 1700000000.125);
  CHECK(std::isnan(points[1].value));
  CHECK(points[2].step == 3);
  CHECK(points[2].value == 1e-05);
  mlq::test::write_file(file, "step,key,value,time\n1,loss,0.5,17.0\n2,loss,oops,18.0\n");
  CHECK(error_of([&] { mlq::read_metrics_csv(file); }) ==
        file.string() + ":3: expected step,key,value,time, not '2,loss,oops,18.0'");
  CHECK(error_of([&] {
          mlq::read_metrics_csv(dir / "none.csv");
        }).find("cannot read the run's metrics") != std::string::npos);
}
