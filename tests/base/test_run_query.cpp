// `runner runs list --where/--order-by/--columns`: the query language compiled to SQL and run on
// a real manifest file.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <sstream>

#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/query.hpp"
#include "mlq/util/error.hpp"
#include "runs/runs_command.hpp"
#include "support/manifest_location.hpp"
#include "support/temp_dir.hpp"

using mlq::Manifest;
using mlq::test::read_file;
using mlq::test::TempDir;
using mlq::test::write_file;

namespace {

// Three runs: "alpha" (regression, lr 3e-3, loss 1.0 -> 0.4, tagged ci=yes, finished after 10 s),
// "beta" (regression, lr 5e-4, loss 0.3 -> 0.6, failed after 100 s), "gamma" (transcription, no
// loss, running for 500 s so far).
struct Fixture {
  TempDir dir;
  const std::string path = mlq::test::manifest_location(dir / "runs.sqlite");
  Manifest manifest{path};
  const double now = mlq::now_seconds();

  Fixture() {
    add("alpha", "regression", now - 1000, "3e-3", "\"mlp\"");
    add("beta", "regression", now - 2000, "5e-4", "\"cnn\"");
    add("gamma", "transcription", now - 500, "2e-3", "\"harmonic_cnn\"");
    manifest.log_metrics("alpha", {{"val_loss", 1, 1.0, 0}, {"val_loss", 2, 0.4, 0}});
    manifest.log_metrics("beta", {{"val_loss", 1, 0.3, 0}, {"val_loss", 2, 0.6, 0}});
    manifest.set_tag("alpha", "ci", "yes");
    manifest.set_status("alpha", mlq::kFinished);
    manifest.set_status("beta", mlq::kFailed, "boom");
    set_end_time("alpha", now - 990);
    set_end_time("beta", now - 1900);
  }

  void add(const std::string& id, const std::string& task, double start, const std::string& lr,
           const std::string& model) {
    mlq::RunRecord run;
    run.id = id;
    run.task = task;
    run.start_time = start;
    run.heartbeat = now;
    run.host = mlq::host_name();
    run.pid = getpid();
    manifest.create_run(run, {{"trainer.optimizer.lr", lr}, {"model.name", model}});
  }

  void set_end_time(const std::string& id, double end) {
    const std::string sql =
        "UPDATE runs SET end_time = " + std::to_string(end) + " WHERE id = '" + id + "'";
    mlq::test::exec_sql(manifest, sql);
  }

  // The ids the filter selects: in the query's order when it has one, else sorted.
  // `index_walk`: order metrics through their summary index, as `runs list` does.
  std::vector<std::string> ids(const std::string& where, const std::string& order = "",
                               bool descending = true, bool index_walk = true) {
    mlq::RunQuery query;
    query.where = where;
    query.order_by = order;
    query.use_summary_index = index_walk;
    query.now = now;
    query.descending = descending;
    std::vector<std::string> out;
    for (const mlq::RunRow& row : manifest.query_runs(query)) out.push_back(row.run.id);
    if (order.empty()) std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace

using Ids = std::vector<std::string>;

TEST_CASE("run queries: metrics compare by their last value, aggregates over their history") {
  Fixture f;
  CHECK(f.ids("metrics.val_loss < 0.5") == Ids{"alpha"});
  CHECK(f.ids("last(metrics.val_loss) < 0.5") == Ids{"alpha"});
  CHECK(f.ids("min(metrics.val_loss) < 0.35") == Ids{"beta"});
  CHECK(f.ids("max(metrics.val_loss) >= 0.6") == Ids{"alpha", "beta"});
  CHECK(f.ids("at(metrics.val_loss, 1) = 1.0") == Ids{"alpha"});
  CHECK(f.ids("metrics.missing > 0").empty());
}

TEST_CASE("run queries: params as numbers or text, tags, attributes, logic") {
  Fixture f;
  CHECK(f.ids("params.trainer.optimizer.lr >= 1e-3") == Ids{"alpha", "gamma"});
  CHECK(f.ids("params.model.name = 'cnn'") == Ids{"beta"});
  CHECK(f.ids("params.model.name like '%cnn'") == Ids{"beta", "gamma"});
  CHECK(f.ids("tags.ci = \"yes\"") == Ids{"alpha"});
  CHECK(f.ids("status = 'finished'") == Ids{"alpha"});
  CHECK(f.ids("status in ('FAILED', 'running')") == Ids{"beta", "gamma"});
  CHECK(f.ids("status not in ('FAILED', 'running')") == Ids{"alpha"});
  CHECK(f.ids("task = 'regression' and not (params.trainer.optimizer.lr < 1e-3)") == Ids{"alpha"});
  CHECK(f.ids("task = 'transcription' OR metrics.val_loss > 0.5") == Ids{"beta", "gamma"});
  CHECK(f.ids("duration > 50") == Ids{"beta", "gamma"});  // gamma has run 500 s so far
  CHECK(f.ids("start_time >= " + std::to_string(f.now - 1500)) == Ids{"alpha", "gamma"});
  CHECK(f.ids("start_time > '2020-01-01' and end_time < '2020-01-01 12:00'").empty());
  CHECK(f.ids("start_time > '2020-01-01 12:30:05'") == Ids{"alpha", "beta", "gamma"});
  CHECK(f.ids("0.5 > metrics.val_loss") == Ids{"alpha"});  // a value on the left
  CHECK(f.ids("id like 'a%' or id = 'gamma'") == Ids{"alpha", "gamma"});
}

TEST_CASE("run queries: order by any field, runs without a value last") {
  Fixture f;
  CHECK(f.ids("", "metrics.val_loss", false) == Ids{"alpha", "beta", "gamma"});
  CHECK(f.ids("", "metrics.val_loss", true) == Ids{"beta", "alpha", "gamma"});
  CHECK(f.ids("", "params.trainer.optimizer.lr", true) == Ids{"alpha", "gamma", "beta"});
  CHECK(f.ids("task = 'regression'", "min(metrics.val_loss)", false) == Ids{"beta", "alpha"});
}

TEST_CASE("run queries: ordering by a metric walks its index and agrees with a plain sort") {
  TempDir dir;
  Manifest manifest(mlq::test::manifest_location(dir / "runs.sqlite"));
  const double now = mlq::now_seconds();
  struct Expected {
    std::string id;
    double start;
    std::optional<double> loss;  // last value
    double best;                 // min value
    bool even;
  };
  std::vector<Expected> runs;
  std::mt19937 rng(3);
  for (int i = 0; i < 40; ++i) {
    Expected e{
        fmt::format("run{:02d}", (i * 17) % 40), now - 1000 + (i * 7) % 40, {}, 0, i % 2 == 0};
    mlq::RunRecord run;
    run.id = e.id;
    run.task = e.even ? "even" : "odd";
    run.start_time = e.start;
    manifest.create_run(run, {});
    if (i % 5 != 4) {  // every fifth run never logs the loss
      const double first = static_cast<double>(rng() % 10), last = static_cast<double>(rng() % 6);
      manifest.log_metrics(e.id, {{"loss", 1, first, 0}, {"loss", 2, last, 0}});  // many ties
      e.loss = last;
      e.best = std::min(first, last);
    }
    runs.push_back(e);
  }
  // What `runs list` promises: runs with a value by value, ties by id (both in the requested
  // direction), then runs without one, newest first; at most `limit`.
  auto expected = [&](bool only_even, bool use_min, bool descending, size_t limit) {
    std::vector<Expected> valued, missing;
    for (const Expected& e : runs)
      if (!only_even || e.even) (e.loss ? valued : missing).push_back(e);
    auto value = [&](const Expected& e) { return use_min ? e.best : *e.loss; };
    std::sort(valued.begin(), valued.end(), [&](const Expected& a, const Expected& b) {
      if (value(a) != value(b)) return descending ? value(a) > value(b) : value(a) < value(b);
      return descending ? a.id > b.id : a.id < b.id;
    });
    std::sort(missing.begin(), missing.end(),
              [](const Expected& a, const Expected& b) { return a.start > b.start; });
    Ids ids;
    for (const auto* group : {&valued, &missing})
      for (const Expected& e : *group)
        if (ids.size() < limit) ids.push_back(e.id);
    return ids;
  };
  for (bool only_even : {false, true})
    for (bool use_min : {false, true})
      for (bool descending : {false, true})
        for (size_t limit : {size_t{3}, size_t{31}, size_t{36}, size_t{1000}}) {
          mlq::RunQuery query;
          if (only_even) query.where = "task = 'even'";
          const std::string field = use_min ? "min(metrics.loss)" : "metrics.loss";
          query.order_by = field;
          REQUIRE(mlq::summary_column(field));
          query.descending = descending;
          query.limit = limit == 1000 ? 0 : static_cast<int64_t>(limit);
          Ids got;
          for (const mlq::RunRow& row : manifest.query_runs(query)) got.push_back(row.run.id);
          CHECK_MESSAGE(got == expected(only_even, use_min, descending, limit),
                        field << (descending ? " desc" : " asc") << " limit " << limit
                              << (only_even ? " even only" : ""));
        }
  CHECK_FALSE(mlq::summary_column("params.lr"));
  CHECK_FALSE(mlq::summary_column("at(metrics.loss, 2)"));
  CHECK(mlq::summary_column("max(metrics.loss)")->column == "max_value");
}

TEST_CASE("run queries: a malformed expression names the column of the problem") {
  auto error = [](const std::string& where) {
    try {
      mlq::compile_run_filter(where, 0);
    } catch (const mlq::UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("metrics.loss >") ==
        "--where 'metrics.loss >': column 15: expression ends too early");
  CHECK(error("loss < 1").find("column 1: unknown field 'loss'") != std::string::npos);
  CHECK(error("metrics.loss < 'low'").find("column 16: expected a number, not 'low'") !=
        std::string::npos);
  CHECK(error("(status = 'x'").find("column 14: expected ')'") != std::string::npos);
  CHECK(error("tags.ci > 3").find("column 1: 'tags.ci' is text") != std::string::npos);
  CHECK(error("status = 'x' and").find("column 17: expression ends too early") !=
        std::string::npos);
  CHECK(error("start_time > 'yesterday'").find("column 14: 'yesterday' is not a time") !=
        std::string::npos);
  CHECK(error("at(metrics.loss) = 1").find("column 16: expected ','") != std::string::npos);
  CHECK(error("task = 'a' 'b'").find("column 12: unexpected 'b'") != std::string::npos);
  CHECK(error("metrics. = 1").find("column 1: 'metrics.' needs a key") != std::string::npos);
  CHECK(error("task = 'a").find("column 8: unterminated string") != std::string::npos);
}

TEST_CASE("runs_command: ordered by a metric without asc or desc, the best run comes first") {
  Fixture f;  // val_loss: alpha 0.4, beta 0.6 (last values); gamma none
  std::ostringstream csv;
  REQUIRE(mlq::runs_command({"list", "--order-by", "metrics.val_loss", "--format", "csv"}, f.path,
                            csv) == 0);
  const std::string out = csv.str();
  CHECK(out.find("alpha") < out.find("beta"));  // a loss: ascending
  CHECK(out.find("beta") < out.find("gamma"));  // without a value: last
  std::ostringstream desc;
  REQUIRE(mlq::runs_command({"list", "--order-by", "metrics.val_loss", "desc", "--format", "csv"},
                            f.path, desc) == 0);
  CHECK(desc.str().find("beta") < desc.str().find("alpha"));
}

TEST_CASE("runs_command: list --where --order-by --columns in table, csv and json") {
  Fixture f;
  const std::string& path = f.path;
  std::ostringstream table;
  CHECK(mlq::runs_command(
            {"list", "--where", "task = 'regression'", "--order-by", "metrics.val_loss", "asc",
             "--columns", "metrics.val_loss,params.model.name,at(metrics.val_loss, 1)"},
            path, table) == 0);
  const std::string text = table.str();
  INFO(text);
  CHECK(text.find("metrics.val_loss") != std::string::npos);
  CHECK(text.find("at(metrics.val_loss, 1)") != std::string::npos);
  CHECK(text.find("alpha") < text.find("beta"));
  CHECK(text.find("gamma") == std::string::npos);
  CHECK(text.find("mlp") != std::string::npos);

  std::ostringstream json;
  CHECK(mlq::runs_command(
            {"list", "--where=tags.ci = 'yes'", "--columns=metrics.val_loss", "--format", "json"},
            path, json) == 0);
  const auto listed = nlohmann::json::parse(json.str());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == "alpha");
  CHECK(listed[0]["columns"] == nlohmann::json{{"metrics.val_loss", 0.4}});

  std::ostringstream csv;
  CHECK(mlq::runs_command({"list", "--order-by", "duration", "--columns", "duration,tags.ci",
                           "--format", "csv", "--limit", "2"},
                          path, csv) == 0);
  INFO(csv.str());
  CHECK(csv.str().find(",duration,tags.ci\n") != std::string::npos);
  const std::string csv_text = csv.str();
  CHECK(std::count(csv_text.begin(), csv_text.end(), '\n') == 3);  // header + 2 runs
  CHECK(csv.str().find("gamma") < csv.str().find("beta"));         // 500 s before 100 s

  std::ostringstream none;
  CHECK(mlq::runs_command({"list", "--where", "metrics.val_loss > 5"}, path, none) == 0);
  CHECK(none.str().rfind("no runs match", 0) == 0);
  CHECK_THROWS_WITH_AS(mlq::runs_command({"list", "--where", "metrics.val_loss >> 5"}, path, none),
                       doctest::Contains("column 19"), mlq::UserError);
}

TEST_CASE("runs_command: tag, export, and delete moving the run directory to the trash") {
  Fixture f;
  const std::string& path = f.path;
  std::ostringstream out;
  CHECK(mlq::runs_command({"tag", "bet", "baseline=yes", "note=a b"}, path, out) == 0);
  CHECK(f.manifest.tags("beta") ==
        std::map<std::string, std::string>{{"baseline", "yes"}, {"note", "a b"}});
  CHECK_THROWS_WITH_AS(mlq::runs_command({"tag", "beta", "novalue"}, path, out),
                       doctest::Contains("'novalue' is not KEY=VALUE"), mlq::UserError);
  CHECK_THROWS_WITH_AS(mlq::runs_command({"tag", "zeta", "a=b"}, path, out),
                       doctest::Contains("no run 'zeta'"), mlq::UserError);

  std::ostringstream csv;
  CHECK(mlq::runs_command({"export", "--where", "tags.baseline = 'yes'"}, path, csv) == 0);
  CHECK(csv.str().rfind("id,task,status,", 0) == 0);
  CHECK(csv.str().find("beta,regression,FAILED") != std::string::npos);
  CHECK(csv.str().find("alpha") == std::string::npos);

  // beta's run directory, with a file in it, goes to <db folder>/trash; the rows go.
  const auto run_dir = f.dir / "outputs" / "regression" / "beta-dir";
  std::filesystem::create_directories(run_dir);
  write_file(run_dir / "metrics.csv", "step,key,value,time\n");
  mlq::test::exec_sql(f.manifest,
                      "UPDATE runs SET run_dir = '" + run_dir.string() + "' WHERE id = 'beta'");
  CHECK_THROWS_WITH_AS(mlq::runs_command({"delete", "gamma", "--yes"}, path, out),
                       doctest::Contains("still running"), mlq::UserError);
  std::ostringstream deleted;
  CHECK(mlq::runs_command({"delete", "beta", "--yes"}, path, deleted) == 0);
  const auto trashed = f.dir / "trash" / "beta-dir-beta";
  CHECK_MESSAGE(deleted.str().find(trashed.string()) != std::string::npos, deleted.str());
  CHECK(read_file(trashed / "metrics.csv") == "step,key,value,time\n");
  CHECK(!std::filesystem::exists(run_dir));
  CHECK(!f.manifest.find_run("beta"));
  CHECK(f.manifest.metrics("beta").empty());
  CHECK(f.manifest.tags("beta").empty());
  CHECK(f.manifest.find_run("alpha"));
}

TEST_CASE("runs_command: compare shows what differs in the configs and the metrics side by side") {
  Fixture f;
  const std::string& path = f.path;
  std::ostringstream out;
  CHECK(mlq::runs_command({"compare", "alpha", "bet"}, path, out) == 0);
  const std::string text = out.str();
  INFO(text);
  CHECK(text.find("config differences:\n  model.name            \"mlp\"  \"cnn\"\n"
                  "  trainer.optimizer.lr  3e-3   5e-4\n") != std::string::npos);
  CHECK(text.find("metrics (last value):\n  val_loss  0.4  0.6\n") != std::string::npos);
  CHECK(text.find("status    FINISHED    FAILED\n") != std::string::npos);

  std::ostringstream same;
  CHECK(mlq::runs_command({"compare", "alpha", "alpha"}, path, same) == 0);
  CHECK(same.str().find("(none: the same config)") != std::string::npos);
  CHECK_THROWS_WITH_AS(mlq::runs_command({"compare", "alpha"}, path, out),
                       doctest::Contains("two or more run ids"), mlq::UserError);
  CHECK_THROWS_WITH_AS(mlq::runs_command({"compare", "alpha", "zeta"}, path, out),
                       doctest::Contains("no run 'zeta'"), mlq::UserError);
}
