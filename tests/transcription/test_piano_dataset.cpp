// The piano data set's validation and test segments: end to end by default, and with
// data.eval_context_seconds overlapping as `runner predict`'s windows, so the task can stitch a
// piece from each segment's middle. A real preprocessed fixture (npy audio, MIDI, index.csv).
// LibTorch first: its glog headers define CHECK, which doctest's must replace.
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <vector>

#include "data/midi_file.hpp"
#include "data/piano_dataset.hpp"
#include "mlq/audio/npy.hpp"
#include "mlq/audio/preprocess.hpp"
#include "support/temp_dir.hpp"

using namespace mlq::transcription;
using mlq::test::TempDir;

namespace {

// One 25 s test piece at 100 Hz (the sample rate does not matter to the segmenting).
void write_fixture(const TempDir& dir) {
  mlq::write_npy(dir / "p.npy", std::vector<float>(2500, 0.0f));
  write_midi(dir / "p.midi", Performance{{{1.0, 2.0, 60, 80}}, {}, 25.0});
  mlq::write_index(dir / "index.csv",
                   {{"p", "test", 25.0, "p.npy", "p.midi", "p.wav", "p.midi", "0", 100, {}}});
}

std::vector<int64_t> start_frames(const PianoDataOptions& options) {
  PianoDataset data(options, mlq::Split::Test);
  std::vector<int64_t> starts;
  for (int64_t i = 0; i < data.size(); ++i)
    starts.push_back(data.get(i).at("start_frame").item<int64_t>());
  return starts;
}

mlq::Config data_config(const TempDir& dir, const std::string& extra) {
  return mlq::Config(
      toml::parse("root = '" + dir.path().string() + "'\neval_segment_seconds = 10.0\n" + extra),
      {});
}

}  // namespace

TEST_CASE("evaluation segments overlap by twice data.eval_context_seconds") {
  TempDir dir;
  write_fixture(dir);
  CHECK(start_frames(PianoDataOptions::from(data_config(dir, ""))) ==
        std::vector<int64_t>{0, 1000, 2000});
  // Every 8.5 s: 25 s still takes three 10 s segments.
  CHECK(start_frames(PianoDataOptions::from(data_config(dir, "eval_context_seconds = 0.75"))) ==
        std::vector<int64_t>{0, 850, 1700});
  CHECK_THROWS_WITH_AS(PianoDataOptions::from(data_config(dir, "eval_context_seconds = 3.0")),
                       doctest::Contains("eval_context_seconds"), mlq::ConfigError);
}
