#include <doctest/doctest.h>

#include "mlq/tracking/manifest.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

TEST_CASE("a scaffolded plugin builds out of tree and trains from a folder on MLQ_PLUGIN_PATH") {
  TempDir dir;
  const fs::path project = dir / "blobs_project";
  auto scaffold = run_process({MLQ_SOURCE_DIR "/tools/new-plugin", "blobs", project.string()});
  REQUIRE_MESSAGE(scaffold.exit_code == 0, scaffold.out);

  auto configure = run_process({"cmake", "-S", project.string(), "-B", (project / "build").string(),
                                "-Dmlq_DIR=" MLQ_BUILD_DIR, "-DCMAKE_BUILD_TYPE=Release"});
  REQUIRE_MESSAGE(configure.exit_code == 0, configure.out);
  auto build = run_process({"cmake", "--build", (project / "build").string(), "-j2"});
  REQUIRE_MESSAGE(build.exit_code == 0, build.out);
  CHECK(build.out.find("warning") == std::string::npos);

  const fs::path drop = dir / "my_plugins";
  fs::create_directories(drop);
  fs::copy_file(project / "build" / "plugins" / "libmlq_blobs.so", drop / "libmlq_blobs.so");
  const std::map<std::string, std::string> env{{"MLQ_PLUGIN_PATH", drop.string()}};

  auto listed = run_runner({"plugins"}, dir.path(), env);
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.find("blobs 0.1.0") != std::string::npos);
  CHECK(listed.out.find("cross_entropy") != std::string::npos);
  // Its model 'mlp' shares its name with the regression plugin's, which is loaded too: both
  // load, and each task's run uses its own plugin's.
  CHECK(listed.out.find("refused") == std::string::npos);
  const std::string blobs_config = "--config=" + (project / "configs" / "exp.toml").string();
  auto blobs = run_runner({"summary", blobs_config}, dir.path(), env);
  CHECK_MESSAGE(blobs.out.find("trainable parameters: 82\n") != std::string::npos, blobs.out);
  auto regression = run_runner({"summary", "--config=" MLQ_SOURCE_DIR "/configs/regression.toml"},
                               dir.path(), env);
  CHECK_MESSAGE(regression.out.find("trainable parameters: 4801\n") != std::string::npos,
                regression.out);
  // "<plugin>:<name>" picks another plugin's entry: the regression plugin's mlp reads
  // model.hidden as a list.
  auto qualified =
      run_runner({"summary", blobs_config, "model.name=regression:mlp"}, dir.path(), env);
  CHECK(qualified.exit_code == 2);
  CHECK_MESSAGE(qualified.out.find("config key 'model.hidden'") != std::string::npos,
                qualified.out);

  auto trained =
      run_runner({"--task=blobs", "--config=" + (project / "configs" / "exp.toml").string(),
                  "trainer.max_steps=60", "trainer.progress_bar=false"},
                 dir.path(), env);
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.out);
  mlq::Manifest manifest(dir / "outputs" / "runs.sqlite");
  auto runs = manifest.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].task == "blobs");
  CHECK(runs[0].status == "FINISHED");
  CHECK(runs[0].plugin_versions.find("\"blobs\":\"0.1.0\"") != std::string::npos);
  CHECK(manifest.last_metrics(runs[0].id).at("test_accuracy") > 0.8);

  auto again = run_process({MLQ_SOURCE_DIR "/tools/new-plugin", "blobs", project.string()});
  CHECK(again.exit_code == 2);
  CHECK(again.out.find("not empty") != std::string::npos);
  auto bad_name =
      run_process({MLQ_SOURCE_DIR "/tools/new-plugin", "Bad-Name", (dir / "x").string()});
  CHECK(bad_name.exit_code == 2);
}
