#include <doctest/doctest.h>
#include <torch/torch.h>

#include "mlq/audio/npy.hpp"
#include "mlq/audio/preprocess.hpp"
#include "mlq/train/segment_dataset.hpp"
#include "support/temp_dir.hpp"

using mlq::test::TempDir;

namespace {

// A preprocessed data set at 100 Hz: file a (2.5 s, samples 0, 1, 2, ...) in train, b in test.
std::filesystem::path write_fixture(const TempDir& dir) {
  std::vector<float> ramp(250);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<float>(i);
  mlq::write_npy(dir / "a.npy", ramp);
  mlq::write_npy(dir / "b.npy", std::vector<float>(50, -1.0f));
  std::vector<mlq::IndexEntry> entries{
      {"a", "train", 2.5, "a.npy", "a.midi", "a.wav", "a.midi", "0", 100, {}},
      {"b", "test", 0.5, "b.npy", "", "b.wav", "", "0", 100, {}}};
  mlq::write_index(dir / "index.csv", entries);
  return dir / "index.csv";
}

}  // namespace

TEST_CASE("segments cover each file at the hop, the last one zero-padded") {
  TempDir dir;
  const auto index = write_fixture(dir);
  mlq::SegmentDataset whole(index, "train", {1.0, 1.0});
  REQUIRE(whole.size() == 3);  // 0-1 s, 1-2 s, 2-3 s (half padding)
  auto last = whole.get(2).at("audio");
  CHECK(last.size(0) == 100);
  CHECK(last[0].item<float>() == 200.0f);
  CHECK(last[49].item<float>() == 249.0f);
  CHECK(last[50].item<float>() == 0.0f);

  mlq::SegmentDataset overlapping(index, "train", {1.0, 0.5});
  CHECK(overlapping.size() == 4);  // starts 0, 0.5, 1.0, 1.5: the last ends at 2.5 s exactly
  CHECK(overlapping.get(3).at("audio")[99].item<float>() == 249.0f);

  mlq::SegmentDataset short_file(index, "test", {1.0, 1.0});
  REQUIRE(short_file.size() == 1);
  CHECK(short_file.get(0).at("audio")[49].item<float>() == -1.0f);
  CHECK(short_file.get(0).at("audio")[50].item<float>() == 0.0f);
  CHECK(mlq::SegmentDataset(index, "validation", {1.0, 1.0}).size() == 0);
}

TEST_CASE("the label hook sees each segment's file and time span") {
  TempDir dir;
  const auto index = write_fixture(dir);
  mlq::SegmentDataset data(
      index, "train", {1.0, 1.0}, [](const mlq::IndexEntry& entry, double start, double end) {
        return mlq::TensorMap{{"span", torch::tensor({start, end})},
                              {"has_label", torch::tensor(entry.label == "a.midi")}};
      });
  auto example = data.get(1);
  CHECK(example.at("span")[0].item<double>() == doctest::Approx(1.0));
  CHECK(example.at("span")[1].item<double>() == doctest::Approx(2.0));
  CHECK(example.at("has_label").item<bool>());
}

TEST_CASE("bad segment settings and indexes are one-line errors") {
  TempDir dir;
  const auto index = write_fixture(dir);
  CHECK_THROWS_AS(mlq::SegmentDataset(index, "train", {0.0, 1.0}), mlq::ConfigError);
  CHECK_THROWS_WITH_AS(mlq::SegmentDataset(dir / "missing.csv", "train", {1.0, 1.0}),
                       doctest::Contains("missing.csv"), mlq::UserError);
  std::filesystem::remove(dir / "a.npy");
  CHECK_THROWS_WITH_AS(mlq::SegmentDataset(index, "train", {1.0, 1.0}),
                       doctest::Contains("a.npy: cannot read: No such file"), mlq::UserError);
}
