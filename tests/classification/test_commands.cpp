// The classification plugin through the real runner and the real plugin: a folder per class, an
// ESC-50-style CSV with folds, the synthetic default, prediction with a bad file among good ones.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "mlq/audio/csv.hpp"
#include "mlq/audio/preprocess.hpp"
#include "mlq/tracking/manifest.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

namespace {

// `seconds` of a sound sox makes: a low sine, a high square wave or noise, by class.
void make_clip(const fs::path& file, const std::string& kind, double seconds, int variant) {
  fs::create_directories(file.parent_path());
  std::vector<std::string> sox{"sox",
                               "-n",
                               "-r",
                               "16000",
                               "-c",
                               "1",
                               "-b",
                               "16",
                               file.string(),
                               "synth",
                               std::to_string(seconds)};
  if (kind == "low") sox.insert(sox.end(), {"sine", std::to_string(200 + 10 * variant)});
  if (kind == "high") sox.insert(sox.end(), {"square", std::to_string(2000 + 50 * variant)});
  if (kind == "noise") sox.insert(sox.end(), {"pinknoise"});
  sox.insert(sox.end(), {"vol", "0.3"});
  const auto made = run_process(sox);
  REQUIRE_MESSAGE(made.exit_code == 0, made.out);
}

const char* const kKinds[] = {"low", "high", "noise"};

// Overrides for a few seconds of training of a tiny model.
std::vector<std::string> tiny(std::vector<std::string> more = {}) {
  std::vector<std::string> args{"--config=" MLQ_SOURCE_DIR "/configs/classification.toml",
                                "model.width=1",
                                "trainer.max_steps=4",
                                "trainer.batch_size=4",
                                "trainer.val_every_n_steps=4",
                                "trainer.scheduler.warmup_steps=0",
                                "trainer.log_every_n_steps=1",
                                "trainer.progress_bar=false",
                                "trainer.threads=1",
                                "data.clip_seconds=1.0"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string metrics_of_only_run(const fs::path& dir) {
  std::string metrics;
  for (const auto& file : fs::recursive_directory_iterator(dir / "outputs"))
    if (file.path().filename() == "metrics.csv") metrics += read_file(file.path());
  return metrics;
}

std::vector<std::string> concat_args(std::vector<std::string> a,
                                     const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("classification: a folder per class trains, reports media, and predict classifies") {
  TempDir dir;
  for (int i = 0; i < 6; ++i)
    for (const char* kind : kKinds)
      make_clip(dir / "sounds" / kind / (std::string(kind) + std::to_string(i) + ".wav"), kind, 1.0,
                i);
  const std::vector<std::string> data{"~data.synth",
                                      "data.root=processed",
                                      "data.preprocess.source_path=sounds",
                                      "data.preprocess.destination_path=processed",
                                      "data.preprocess.metadata=false",
                                      "~data.preprocess.metadata_format"};
  std::vector<std::string> args = tiny(data);
  auto trained = run_runner(args, dir.path());
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.out);
  const auto index = mlq::read_index(dir / "processed" / "index.csv");
  CHECK(index.size() == 18);
  const std::string metrics = metrics_of_only_run(dir.path());
  for (const std::string key : {"val_accuracy", "test_accuracy", "test_macro_f1",
                                "test_top_k_accuracy", "test_loss", "train_loss"})
    CHECK_MESSAGE(has(metrics, "," + key + ","), key);
  CHECK(has(metrics, ",test_f1_"));  // per class, for the classes the test split has
  CHECK_FALSE(has(metrics, "unseen"));

  mlq::Manifest manifest(dir / "outputs" / "runs.sqlite");
  const auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  const fs::path run_dir =
      fs::path(runs[0].run_dir).is_absolute() ? fs::path(runs[0].run_dir) : dir / runs[0].run_dir;
  CHECK(fs::exists(run_dir / "examples" / "confusion_matrix.png"));
  std::string events;  // TensorBoard's image of the validation's confusion matrix
  for (const auto& file : fs::directory_iterator(run_dir / "tb")) events += read_file(file.path());
  CHECK(has(events, "val_confusion_matrix"));
  CHECK(has(events, "\x89PNG"));
  const auto confusion = mlq::read_csv_records(run_dir / "examples" / "confusion_matrix.csv",
                                               {"true\\predicted", "high", "low", "noise"});
  CHECK(confusion.size() == 3);
  auto report = run_runner({"report", "latest", "-o", "report.html"}, dir.path());
  REQUIRE_MESSAGE(report.exit_code == 0, report.out);
  CHECK(has(read_file(dir / "report.html"), "confusion_matrix"));

  // Predict over a folder with a long file (windows), a short one and a corrupt one; with both
  // the transcription and the classification plugin loaded, the checkpoint picks the command.
  make_clip(dir / "new" / "long.wav", "low", 3.5, 0);
  make_clip(dir / "new" / "short.flac", "noise", 0.4, 0);
  write_file(dir / "new" / "broken.wav", "RIFF....WAVEjunk");
  const std::string checkpoint = (run_dir / "checkpoints" / "last.pt").string();
  auto predicted =
      run_runner({"predict", "--checkpoint=" + checkpoint, "new", "-o", "out.csv", "--top-k", "2"},
                 dir.path());
  CHECK(predicted.exit_code == 1);
  CHECK_MESSAGE(has(predicted.out, "error: new/broken.wav"), predicted.out);
  CHECK_MESSAGE(has(predicted.out, "classified 2 files"), predicted.out);
  CHECK_MESSAGE(has(predicted.out, "1 failed"), predicted.out);
  const auto rows = mlq::read_csv_records(
      dir / "out.csv", {"file", "window", "start", "end", "label_1", "probability_1", "label_2"});
  // long.wav: the whole file and 4 windows of 1 s; short.flac: the whole file.
  REQUIRE(rows.size() == 6);
  std::set<std::string> labels{"high", "low", "noise"};
  double previous_start = -1;
  for (const auto& row : rows) {
    CHECK(labels.count(row.at("label_1")) == 1);
    CHECK(std::stod(row.at("probability_1")) >= std::stod(row.at("probability_2")));
    if (row.at("file") == "new/long.wav" && row.at("window") != "all") {
      CHECK(std::stod(row.at("start")) > previous_start);
      previous_start = std::stod(row.at("start"));
    }
  }
  CHECK(std::count_if(rows.begin(), rows.end(),
                      [](const auto& r) { return r.at("window") == "all"; }) == 2);

  auto json = run_runner(
      {"predict", "--checkpoint=" + checkpoint, "new/long.wav", "-o", "out.json"}, dir.path());
  REQUIRE_MESSAGE(json.exit_code == 0, json.out);
  const auto parsed = nlohmann::json::parse(read_file(dir / "out.json"));
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0]["duration"].get<double>() == doctest::Approx(3.5));
  CHECK(parsed[0]["top"].size() == 3);
  CHECK(parsed[0]["windows"].size() == 4);
  double sum = 0;
  for (const auto& label : parsed[0]["top"]) sum += label["probability"].get<double>();
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-3));

  auto bad =
      run_runner({"predict", "--checkpoint=" + checkpoint, "new", "-o", "x.csv", "--format", "xml"},
                 dir.path());
  CHECK(bad.exit_code == 2);
  CHECK_MESSAGE(has(bad.out, "--format xml: expected csv or json"), bad.out);
  CHECK_FALSE(fs::exists(dir / "x.csv"));
}

TEST_CASE("classification: an ESC-50-style CSV with folds, data.fold holding one out") {
  TempDir dir;
  std::string csv = "filename,fold,target,category,esc10,src_file,take\n";
  for (int fold = 1; fold <= 5; ++fold)
    for (int k = 0; k < 2; ++k)
      for (int c = 0; c < 2; ++c) {
        const std::string name =
            std::to_string(fold) + "-" + std::to_string(k) + "-" + std::to_string(c) + ".wav";
        make_clip(dir / "esc" / "audio" / name, kKinds[c], 1.0, fold);
        csv += name + "," + std::to_string(fold) + "," + std::to_string(c) + "," +
               (c ? "rain" : "dog") + ",False,1,A\n";
      }
  fs::create_directories(dir / "esc" / "meta");
  write_file(dir / "esc" / "meta" / "esc50.csv", csv);
  const std::vector<std::string> data{
      "~data.synth", "data.root=processed", "data.preprocess.source_path=esc",
      "data.preprocess.destination_path=processed", "data.preprocess.metadata=meta/esc50.csv"};
  auto bad_fold = run_runner(tiny(concat_args(data, {"+data.fold=9"})), dir.path());
  CHECK(bad_fold.exit_code == 2);
  CHECK_MESSAGE(has(bad_fold.out, "data.fold': fold 9 is not in"), bad_fold.out);
  CHECK_MESSAGE(has(bad_fold.out, "(folds: 1, 2, 3, 4, 5)"), bad_fold.out);

  auto trained = run_runner(tiny(concat_args(data, {"--multirun", "+data.fold=2,5"})), dir.path());
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.out);
  const auto index = mlq::read_index(dir / "processed" / "index.csv");
  REQUIRE(index.size() == 20);
  CHECK(index[0].fields.at("class") == "dog");
  for (int fold : {2, 5}) {
    const auto folded =
        mlq::read_index(dir / "processed" / ("index-fold-" + std::to_string(fold) + ".csv"));
    REQUIRE(folded.size() == 20);
    for (const auto& entry : folded) {
      const int k = std::stoi(entry.fields.at("fold"));
      const int validation = fold == 5 ? 1 : fold + 1;
      CHECK(entry.split == (k == fold ? "test" : k == validation ? "validation" : "train"));
    }
  }
  mlq::Manifest manifest(dir / "outputs" / "runs.sqlite");
  CHECK(manifest.list_runs().size() == 2);
}

TEST_CASE("classification: synth renders every family, the unseen soundfont apart") {
  TempDir dir;
  const std::string config = "--config=" MLQ_SOURCE_DIR "/configs/classification.toml";
  auto made = run_runner({"synth", config, "data.synth.clips=[2,1,1]",
                          "data.synth.destination_path=raw", "data.synth.clip_seconds=1.0"},
                         dir.path());
  REQUIRE_MESSAGE(made.exit_code == 0, made.out);
  CHECK_MESSAGE(has(made.out, "rendered 55 clips"), made.out);  // 11 x (4 + 1 unseen)
  const auto rows = mlq::read_csv_records(dir / "raw" / "synth-classes.csv",
                                          {"filename", "label", "split", "program", "soundfont"});
  REQUIRE(rows.size() == 44);
  std::set<std::string> families, soundfonts;
  for (const auto& row : rows) {
    families.insert(row.at("label"));
    soundfonts.insert(row.at("soundfont"));
    CHECK(fs::exists(dir / "raw" / row.at("filename")));
  }
  CHECK(families.size() == 11);
  CHECK(soundfonts == std::set<std::string>{"FluidR3Mono_GM", "TimGM6mb"});
  const auto unseen = mlq::read_csv_records(
      dir / "raw" / "synth-classes-eval-MuseScore_General_Lite.csv", {"filename", "split"});
  REQUIRE(unseen.size() == 11);
  for (const auto& row : unseen) CHECK(row.at("split") == "test");
  const std::string first = read_file(dir / "raw" / rows[0].at("filename"));
  auto again = run_runner({"synth", config, "data.synth.clips=[2,1,1]",
                           "data.synth.destination_path=raw", "data.synth.clip_seconds=1.0"},
                          dir.path());
  CHECK_MESSAGE(has(again.out, "is up to date"), again.out);
  auto other = run_runner({"synth", config, "data.synth.clips=[2,1,1]",
                           "data.synth.destination_path=other", "data.synth.clip_seconds=1.0"},
                          dir.path());
  REQUIRE(other.exit_code == 0);
  CHECK(read_file(dir / "other" / rows[0].at("filename")) == first);  // from the seed alone
}
