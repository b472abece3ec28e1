#include <doctest/doctest.h>

#include "mlq/audio/npy.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

TEST_CASE("runner features writes the log-mel features of any audio file libsox reads") {
  TempDir dir;
  const fs::path flac = dir / "tone.flac";
  auto made = run_process(
      {"sox", "-n", "-r", "44100", "-c", "2", flac.string(), "synth", "1.0", "sine", "440"});
  REQUIRE_MESSAGE(made.exit_code == 0, made.out);
  const std::string config = "--config=" MLQ_SOURCE_DIR "/configs/regression.toml";
  auto result =
      run_runner({"features", config, flac.string(), "-o", (dir / "out.npy").string()}, dir.path());
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  CHECK(result.out.find("101 frames x 229 mel bands") != std::string::npos);
  mlq::NpyFile features(dir / "out.npy");
  CHECK(features.shape() == std::vector<int64_t>{101, 229});  // 16000 / 160 + 1 frames
  // 440 Hz lies in a low band: it holds far more energy than the top band.
  CHECK(features.floats()[50 * 229 + 20] > features.floats()[50 * 229 + 228] + 30);

  auto smaller = run_runner({"features", config, flac.string(), "-o", (dir / "small.npy").string(),
                             "++features.n_mels=64"},
                            dir.path());
  REQUIRE_MESSAGE(smaller.exit_code == 0, smaller.out);
  CHECK(mlq::NpyFile(dir / "small.npy").shape() == std::vector<int64_t>{101, 64});
}

TEST_CASE("runner features errors are one line and write nothing") {
  TempDir dir;
  const std::string config = "--config=" MLQ_SOURCE_DIR "/configs/regression.toml";
  write_file(dir / "noise.wav", std::string(1000, 'x'));
  auto bad = run_runner(
      {"features", config, (dir / "noise.wav").string(), "-o", (dir / "out.npy").string()},
      dir.path());
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("noise.wav: cannot decode audio") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out.npy"));
  auto no_output = run_runner({"features", config, (dir / "noise.wav").string()}, dir.path());
  CHECK(no_output.exit_code == 2);
  CHECK(no_output.out.find("missing -o OUT.npy") != std::string::npos);
  auto two = run_runner({"features", config, "a.wav", "b.wav", "-o", "x.npy"}, dir.path());
  CHECK(two.exit_code == 2);
  CHECK(two.out.find("expected one AUDIO file") != std::string::npos);
}
