#include <doctest/doctest.h>
#include <torch/torch.h>

#include <map>

#include "mlq/train/callbacks.hpp"
#include "mlq/train/trainer.hpp"
#include "mlq/util/files.hpp"
#include "support/temp_dir.hpp"
#include "train/toy_task.hpp"

namespace fs = std::filesystem;
using mlq::test::config_from;
using mlq::test::TempDir;
using mlq::test::ToyTask;

namespace {

mlq::Config run_config(const TempDir& dir, const std::string& extra = "") {
  return config_from("task = 'toy'\noutput_dir = '" + (dir / "outputs").string() +
                     "'\n[trainer]\nthreads = 1\nprogress_bar = false\nbatch_size = 8\n"
                     "val_every_n_epochs = 0\nval_every_n_steps = 3\n" +
                     (extra.empty() ? "max_steps = 12" : extra) +
                     "\n[trainer.optimizer]\nname = 'adam'\nlr = 0.05\n"
                     "[trainer.checkpoint]\nsave_top_k = 2\nmonitor = 'val_loss'\n");
}

std::vector<std::string> checkpoint_names(const mlq::Run& run) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(run.checkpoints_dir()))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("checkpoint callback keeps the top-k by the monitored metric plus last.pt") {
  TempDir dir;
  mlq::Manifest manifest(dir / "runs.sqlite");
  const mlq::Config config = run_config(dir);
  mlq::Run run = mlq::Run::create(manifest, config, {}, "{}");
  ToyTask task;
  mlq::Trainer trainer(config, task, &run);
  trainer.add_default_callbacks();
  trainer.fit();
  auto names = checkpoint_names(run);
  REQUIRE(names.size() == 3);  // top 2 + last
  CHECK(names[0] == "last.pt");
  // The loss falls steadily, so the two best are the two latest validations.
  CHECK(names[1].rfind("step=000009-val_loss=", 0) == 0);
  CHECK(names[2].rfind("step=000012-val_loss=", 0) == 0);
  auto record = manifest.find_run(run.id());
  CHECK(fs::path(record->best_checkpoint).filename().string() == names[2]);
  auto train_loss = manifest.metrics(run.id(), "val_loss");
  CHECK(train_loss.size() == 4);

  // Finishing registers the run directory's files as artifacts: the rotated-out checkpoints are
  // not among them, and each file carries its kind and checksum.
  run.finish(mlq::kFinished);
  std::map<std::string, mlq::Artifact> artifacts;
  for (const auto& a : manifest.artifacts(run.id())) artifacts[a.path] = a;
  std::vector<std::string> checkpoints;
  for (const auto& [path, a] : artifacts)
    if (a.kind == "checkpoint") checkpoints.push_back(fs::path(path).filename().string());
  CHECK(checkpoints == names);
  for (const char* file : {"metrics.csv", "config.toml", "manifest.json", "checkpoints/last.pt"}) {
    REQUIRE_MESSAGE(artifacts.count(file) == 1, file);
    CHECK(artifacts[file].checksum == mlq::file_checksum(run.dir() / file));
  }
  CHECK(artifacts["metrics.csv"].kind == "metrics");
  CHECK(artifacts["manifest.json"].kind == "summary");
  size_t event_files = 0;
  for (const auto& [path, a] : artifacts) event_files += a.kind == "tensorboard";
  CHECK(event_files == 1);
  fs::remove(run.dir() / "checkpoints" / names[1]);
  run.register_artifacts();
  CHECK(manifest.artifacts(run.id()).size() == artifacts.size() - 1);
  CHECK(mlq::artifact_kind("examples/a-roll.png") == "image");
  CHECK(mlq::artifact_kind("examples/a-input.wav") == "audio");
  CHECK(mlq::artifact_kind("examples/a.mid") == "midi");
  CHECK(mlq::artifact_kind("notes.txt") == "other");
}

TEST_CASE("a checkpoint restores weights, optimizer, step, loader position and RNG") {
  TempDir dir;
  mlq::Manifest manifest(dir / "runs.sqlite");
  const mlq::Config config = run_config(dir, "max_steps = 7");
  mlq::Run run = mlq::Run::create(manifest, config, {}, "{}");
  ToyTask trained;
  mlq::Trainer first(config, trained, &run);
  first.fit();
  const fs::path path = dir / "manual.pt";
  first.save_checkpoint(path);
  const double after_save = torch::rand({1}).item<double>();

  ToyTask fresh;
  mlq::Trainer second(config, fresh, nullptr);
  second.load_checkpoint(path);
  CHECK(torch::rand({1}).item<double>() == after_save);
  CHECK(second.step() == 7);
  CHECK(second.epoch() == first.epoch());
  CHECK(torch::cat({fresh.model_->linear_->weight.flatten(), fresh.model_->linear_->bias})
            .equal(torch::cat(
                {trained.model_->linear_->weight.flatten(), trained.model_->linear_->bias})));
  for (const auto& entry : fs::directory_iterator(dir.path()))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("unreadable checkpoints give one-line errors naming the file") {
  TempDir dir;
  ToyTask task;
  mlq::Trainer trainer(run_config(dir), task, nullptr);
  CHECK_THROWS_WITH_AS(trainer.load_checkpoint(dir / "missing.pt"),
                       doctest::Contains("missing.pt: checkpoint not found"), mlq::UserError);
  mlq::test::write_file(dir / "garbage.pt", "definitely not a zip archive");
  CHECK_THROWS_WITH_AS(trainer.load_checkpoint(dir / "garbage.pt"),
                       doctest::Contains("garbage.pt: not a readable checkpoint"), mlq::UserError);

  trainer.save_checkpoint(dir / "good.pt");
  std::string bytes = mlq::test::read_file(dir / "good.pt");
  mlq::test::write_file(dir / "truncated.pt", bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH_AS(trainer.load_checkpoint(dir / "truncated.pt"),
                       doctest::Contains("truncated.pt"), mlq::UserError);
}

TEST_CASE("weights of another model shape are refused") {
  TempDir dir;
  struct Wide : mlq::test::Line {
    Wide() { linear_ = replace_module("linear", torch::nn::Linear(1, 3)); }
  };
  ToyTask task;
  mlq::Trainer trainer(run_config(dir), task, nullptr);
  trainer.save_checkpoint(dir / "line.pt");
  ToyTask other;
  other.model_ = std::make_shared<Wide>();
  mlq::Trainer wide(run_config(dir), other, nullptr);
  CHECK_THROWS_WITH_AS(
      wide.load_weights(dir / "line.pt"),
      doctest::Contains("line.pt: weights do not fit the configured model ('linear.weight' is [1, "
                        "1] in the checkpoint, [3, 1] in the model)"),
      mlq::UserError);
}
