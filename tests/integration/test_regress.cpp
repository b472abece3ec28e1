// runner regress on a real manifest: verdicts, tolerances, directions, the three baseline kinds.
#include <doctest/doctest.h>

#include "mlq/tracking/manifest.hpp"
#include "support/manifest_location.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

namespace {

struct Runs {
  TempDir dir;
  std::string db = mlq::test::manifest_location(dir / "runs.sqlite");

  // A finished run with these last metric values, started `age` seconds ago.
  void add(const std::string& id, const std::map<std::string, double>& metrics, double age,
           const std::string& tag = "") {
    mlq::Manifest manifest(db);
    mlq::RunRecord run;
    run.id = id;
    run.task = "regression";
    run.start_time = mlq::now_seconds() - age;
    manifest.create_run(run, {});
    std::vector<mlq::MetricPoint> points;
    for (const auto& [key, value] : metrics) {
      points.push_back({key, 1, value * 0.5, run.start_time});  // an earlier, worse value
      points.push_back({key, 2, value, run.start_time});
    }
    manifest.log_metrics(id, points);
    if (!tag.empty()) manifest.set_tag(id, tag, "yes");
    manifest.set_status(id, mlq::kFinished);
  }

  ProcessResult regress(std::vector<std::string> args) {
    args.insert(args.begin(), {"regress", "--db=" + db});
    return run_runner(args, dir.path());
  }
};

bool has(const ProcessResult& r, const std::string& text) {
  return r.out.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("regress passes equal or better runs and fails on a regression beyond tolerance") {
  Runs runs;
  runs.add("base0001", {{"test_r2", 0.95}, {"test_loss", 0.10}, {"val_r2", 0.9}}, 100, "ci");
  runs.add("good0002", {{"test_r2", 0.96}, {"test_loss", 0.09}}, 50);
  runs.add("bad00003", {{"test_r2", 0.94}, {"test_loss", 0.12}}, 10);

  auto good = runs.regress({"--run=good", "--baseline=base", "--lower-is-better=*loss"});
  CHECK_MESSAGE(good.exit_code == 0, good.out);
  CHECK_MESSAGE(has(good, "0 of 2 metrics regressed"), good.out);  // val_* is not compared
  CHECK_MESSAGE(has(good, "better"), good.out);

  // Without a direction the names tell: a lower loss is better, a lower R^2 worse.
  auto by_name = runs.regress({"--run=good", "--baseline=base"});
  CHECK(by_name.exit_code == 0);
  CHECK_MESSAGE(has(by_name, "0 of 2 metrics regressed"), by_name.out);
  CHECK_MESSAGE(has(by_name, "better (lower is better)"), by_name.out);
  // --higher-is-better says otherwise: the lower loss is then a regression.
  auto direction = runs.regress({"--run=good", "--baseline=base", "--higher-is-better=test_loss"});
  CHECK(direction.exit_code == 1);
  CHECK_MESSAGE(has(direction, "1 of 2 metrics regressed"), direction.out);

  // `latest` is the newest run; tag:ci finds the baseline.
  auto bad = runs.regress({"--baseline=tag:ci", "--lower-is-better=test_loss"});
  CHECK(bad.exit_code == 1);
  CHECK_MESSAGE(has(bad, "run bad00003 against run base0001 (tag ci)"), bad.out);
  CHECK_MESSAGE(has(bad, "2 of 2 metrics regressed"), bad.out);
  auto tolerated = runs.regress({"--baseline=tag:ci", "--lower-is-better=test_loss",
                                 "--tolerance=test_r2=0.02", "--tolerance=test_loss=0.05"});
  CHECK_MESSAGE(tolerated.exit_code == 0, tolerated.out);

  // A metric the run lacks is a regression.
  auto missing = runs.regress({"--run=good", "--baseline=base", "--metrics=*r2"});
  CHECK(missing.exit_code == 1);
  CHECK_MESSAGE(has(missing, "val_r2"), missing.out);
  CHECK_MESSAGE(has(missing, "REGRESSED (missing)"), missing.out);
}

TEST_CASE("a baseline file written from one run checks another") {
  Runs runs;
  runs.add("base0001", {{"test_r2", 0.95}}, 100);
  const std::string file = (runs.dir / "baseline.json").string();
  auto written = runs.regress({"--run=base", "--write-baseline=" + file});
  REQUIRE_MESSAGE(written.exit_code == 0, written.out);
  CHECK(read_file(file).find("\"test_r2\": 0.95") != std::string::npos);
  runs.add("next0002", {{"test_r2", 0.90}}, 10);
  auto checked = runs.regress({"--baseline=file:" + file});
  CHECK(checked.exit_code == 1);
  CHECK_MESSAGE(has(checked, "REGRESSED"), checked.out);
  CHECK(runs.regress({"--baseline=file:" + file, "--tolerance=test_r2=0.1"}).exit_code == 0);
}

TEST_CASE("regress input errors are one line with exit status 2") {
  Runs runs;
  runs.add("base0001", {{"test_r2", 0.95}}, 100);
  auto unknown = runs.regress({"--run=nope", "--baseline=base"});
  CHECK(unknown.exit_code == 2);
  CHECK_MESSAGE(has(unknown, "no run 'nope'"), unknown.out);
  auto tag = runs.regress({"--baseline=tag:missing"});
  CHECK(tag.exit_code == 2);
  CHECK_MESSAGE(has(tag, "no finished run is tagged 'missing'"), tag.out);
  auto tolerance = runs.regress({"--baseline=base", "--tolerance=test_r2"});
  CHECK(tolerance.exit_code == 2);
  CHECK_MESSAGE(has(tolerance, "expected KEY=ABSOLUTE_TOLERANCE"), tolerance.out);
  write_file(runs.dir / "bad.json", "{\"metrics\": [1]}");
  auto file = runs.regress({"--baseline=file:" + (runs.dir / "bad.json").string()});
  CHECK(file.exit_code == 2);
  CHECK_MESSAGE(has(file, "bad.json: expected {\"metrics\""), file.out);
}
