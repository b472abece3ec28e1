// runner report on a real manifest with real artifacts, loaded in headless Chromium.
#include <doctest/doctest.h>

#include <cmath>
#include <regex>

#include "mlq/media/png.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/util/files.hpp"
#include "support/manifest_location.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

namespace {

struct Runs {
  TempDir dir;
  std::string db = mlq::test::manifest_location(dir / "runs.sqlite");

  // A finished run with loss and accuracy curves over `steps` steps and a test metric.
  void add(const std::string& id, double lr, int steps) {
    mlq::Manifest manifest(db);
    mlq::RunRecord run;
    run.id = id;
    run.task = "transcription";
    run.start_time = mlq::now_seconds() - 100;
    run.run_dir = (dir / id).string();
    run.config_toml = "[optimizer]\nlr = " + std::to_string(lr) + "\n";
    fs::create_directories(run.run_dir);
    manifest.create_run(run, {{"optimizer.lr", std::to_string(lr)}, {"data.batch", "8"}});
    std::vector<mlq::MetricPoint> points;
    for (int s = 1; s <= steps; ++s) {
      points.push_back({"train_loss", s * 10, 2.0 * std::exp(-lr * 100 * s), 0});
      points.push_back({"val_onset_f1", s * 10, 1 - std::exp(-lr * 50 * s), 0});
    }
    points.push_back({"test_onset_f1", steps * 10, 0.8 + lr, 0});
    manifest.log_metrics(id, points);
    manifest.set_status(id, mlq::kFinished);
  }

  // Writes `bytes` into the run's folder and registers it as an artifact of `kind`.
  void artifact(const std::string& id, const std::string& name, const std::string& kind,
                const std::string& bytes) {
    mlq::Manifest manifest(db);
    fs::create_directories((dir / id / name).parent_path());
    mlq::write_file_atomic(dir / id / name, bytes);
    manifest.add_artifact(id, {name, kind, ""});
  }

  ProcessResult report(std::vector<std::string> args) {
    args.insert(args.begin(), {"report", "--db=" + db});
    return run_runner(args, dir.path());
  }
};

// A red/green piano-roll-like test image.
std::string test_png() {
  const int w = 64, h = 22;
  std::vector<uint8_t> rgb(w * h * 3, 255);
  for (int x = 8; x < 40; ++x)
    for (int c = 0; c < 3; ++c) rgb[(10 * w + x) * 3 + c] = c == 0 ? 200 : 30;
  return mlq::encode_png_rgb(rgb.data(), w, h);
}

std::string sox_wav(const TempDir& dir) {
  const fs::path wav = dir / "tone.wav";
  auto result = run_process({"sox", "-n", "-r", "16000", "-c", "1", "-b", "16", wav.string(),
                             "synth", "0.5", "sine", "440"});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  return mlq::read_file_bytes(wav);
}

// The page's DOM after headless Chromium loaded it and its script ran.
ProcessResult chromium_dom(const fs::path& page) {
  ProcessResult r = run_process(
      {"chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
       "--virtual-time-budget=5000", "--dump-dom", "file://" + fs::absolute(page).string()},
      {{"HOME", page.parent_path().string()}});
  REQUIRE_MESSAGE(r.exit_code == 0, "chromium (installed by tools/setup.sh) failed: " << r.out);
  return r;
}

std::string attribute(const std::string& dom, const std::string& name) {
  std::smatch m;
  if (std::regex_search(dom, m, std::regex(name + "=\"([^\"]*)\""))) return m[1];
  return "";
}

}  // namespace

TEST_CASE("report: one self-contained page with curves, metrics, examples and config") {
  Runs runs;
  runs.add("aaaa1111", 0.01, 30);
  runs.add("bbbb2222", 0.02, 20);
  runs.artifact("aaaa1111", "examples/excerpt-01-roll.png", "image", test_png());
  runs.artifact("aaaa1111", "examples/excerpt-01-input.wav", "audio", sox_wav(runs.dir));
  runs.artifact("aaaa1111", "checkpoints/last.pt", "checkpoint", "not shown");

  auto single = runs.report({"aaaa", "-o", "one.html"});
  REQUIRE_MESSAGE(single.exit_code == 0, single.out);
  const std::string page = mlq::read_file_bytes(runs.dir / "one.html");
  CHECK(page.find("aaaa1111") != std::string::npos);
  CHECK(page.find("data:image/png;base64,iVBORw0KGgo") != std::string::npos);  // PNG signature
  CHECK(page.find("data:audio/wav;base64,UklGR") != std::string::npos);        // "RIFF"
  CHECK(page.find("not shown") == std::string::npos);
  CHECK(page.find("lr = 0.010000") != std::string::npos);
  // Self-contained: nothing is fetched from anywhere. Every URL in the page is an SVG namespace.
  for (const std::string scheme : {"http://", "https://"})
    for (size_t at = page.find(scheme); at != std::string::npos;
         at = page.find(scheme, at + scheme.size())) {
      INFO("a URL in the page: " << page.substr(at, 60));
      CHECK(page.compare(at, 26, "http://www.w3.org/2000/svg") == 0);
    }
  CHECK(page.find("src=\"/") == std::string::npos);

  const std::string dom = chromium_dom(runs.dir / "one.html").out;
  CHECK_MESSAGE(attribute(dom, "data-ready") == "yes", dom.substr(0, 2000));
  CHECK(attribute(dom, "data-images") == "1");
  CHECK(attribute(dom, "data-broken-images") == "0");
  CHECK(attribute(dom, "data-curves") == "2");  // train_loss and val_onset_f1; test_* is a table
  CHECK(dom.find("<audio") != std::string::npos);

  // Several runs: curves overlaid (one series per run), config differences, a metric table.
  auto both = runs.report({"aaaa1111", "bbbb", "-o", (runs.dir / "both.html").string()});
  REQUIRE_MESSAGE(both.exit_code == 0, both.out);
  const std::string compared = mlq::read_file_bytes(runs.dir / "both.html");
  CHECK(compared.find("Config differences") != std::string::npos);
  CHECK(compared.find("optimizer.lr") != std::string::npos);
  CHECK(compared.find("data.batch") == std::string::npos);  // the same in both runs
  CHECK(compared.find("data-series=\"2\"") != std::string::npos);
  const std::string dom2 = chromium_dom(runs.dir / "both.html").out;
  CHECK(attribute(dom2, "data-ready") == "yes");
  CHECK(attribute(dom2, "data-curves") == "4");
}

TEST_CASE("report: a broken artifact shows as broken and bad usage is one clear line") {
  Runs runs;
  runs.add("cccc3333", 0.01, 5);
  runs.artifact("cccc3333", "roll.png", "image", "\x89PNG but not really");
  runs.artifact("cccc3333", "gone.wav", "audio", "x");
  fs::remove(runs.dir / "cccc3333" / "gone.wav");
  auto r = runs.report({"cccc", "-o", "page.html"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  const std::string page = mlq::read_file_bytes(runs.dir / "page.html");
  CHECK(page.find("missing: ") != std::string::npos);
  const std::string dom = chromium_dom(runs.dir / "page.html").out;
  CHECK(attribute(dom, "data-ready") == "yes");
  CHECK(attribute(dom, "data-broken-images") == "1");  // the check in the page can fail

  auto unknown = runs.report({"nope", "-o", "x.html"});
  CHECK(unknown.exit_code == 2);
  CHECK_MESSAGE(unknown.out.find("no run 'nope'") != std::string::npos, unknown.out);
  auto no_output = runs.report({"cccc"});
  CHECK(no_output.exit_code == 2);
  CHECK(no_output.out.find("expected -o FILE.html") != std::string::npos);
  auto bad_folder = runs.report({"cccc", "-o", (runs.dir / "no/such/dir/x.html").string()});
  CHECK(bad_folder.exit_code == 2);
  CHECK(bad_folder.out.find("no/such/dir") != std::string::npos);
  CHECK_FALSE(fs::exists(runs.dir / "x.html"));
}
