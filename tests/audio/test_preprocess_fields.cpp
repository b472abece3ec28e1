// What a metadata parser may give besides {audio, label, split}: further fields, which become
// index columns; rows without a split, which get the seeded random split; absolute paths.
#include <doctest/doctest.h>

#include <fstream>
#include <map>

#include "mlq/audio/audio_io.hpp"
#include "mlq/audio/preprocess.hpp"
#include "mlq/util/error.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::test::TempDir;
using mlq::test::write_file;

TEST_CASE("preprocess keeps a parser's fields as index columns and splits rows without a split") {
  TempDir dir;
  const std::vector<float> tone(1600, 0.25f);
  fs::create_directories(dir / "source" / "clips");
  for (int i = 0; i < 10; ++i)
    mlq::write_audio(dir / "source" / "clips" / ("c" + std::to_string(i) + ".wav"), tone, 16000);
  write_file(dir / "source" / "list.txt", "");
  std::string relabel = "dog";
  // Clip 0 is listed by its absolute path, the others relative to the source; only clip 9 has a
  // split of its own.
  const mlq::MetadataParser parser = [&](const fs::path&) {
    std::vector<mlq::MetadataItem> items;
    for (int i = 0; i < 10; ++i) {
      mlq::MetadataItem item;
      item.audio = (i == 0 ? fs::absolute(dir / "source").string() + "/" : std::string()) +
                   "clips/c" + std::to_string(i) + ".wav";
      item.split = i == 9 ? "test" : "";
      item.fields["class"] = i % 2 ? "cat" : relabel;
      item.fields["fold"] = std::to_string(i % 5 + 1);
      items.push_back(item);
    }
    return items;
  };
  mlq::PreprocessOptions o;
  o.source_path = dir / "source";
  o.destination_path = dir / "out";
  o.metadata = "list.txt";
  o.metadata_format = "test";
  o.split = {0.5, 0.25, 0.25};
  CHECK(mlq::preprocess(o, parser).processed == 10);
  auto index = mlq::read_index(dir / "out" / "index.csv");
  REQUIRE(index.size() == 10);
  std::map<std::string, int> splits;
  for (const auto& e : index) {
    ++splits[e.split];
    CHECK(e.fields.size() == 2);
    CHECK(e.source_audio.rfind("clips/c", 0) == 0);  // relative, the absolute one too
    if (e.id == "clips/c9") CHECK(e.split == "test");
  }
  CHECK(splits["train"] == 5);  // 9 rows without a split: round(4.5), round(2.25), the rest
  CHECK(splits["validation"] == 2);
  CHECK(splits["test"] == 3);
  std::ifstream header_line(dir / "out" / "index.csv");
  std::string header;
  std::getline(header_line, header);
  CHECK(header.size() > 11);
  CHECK(header.substr(header.size() - 11) == ",class,fold");

  // Relabelled in the metadata: the index changes, the audio is not decoded again.
  relabel = "bird";
  const mlq::PreprocessReport again = mlq::preprocess(o, parser);
  CHECK(again.processed == 0);
  CHECK(again.unchanged == 10);
  for (const auto& e : mlq::read_index(dir / "out" / "index.csv"))
    if (e.id == "clips/c0") CHECK(e.fields.at("class") == "bird");

  // A field named like an index column would be lost in it: a one-line error.
  const mlq::MetadataParser clashing = [&](const fs::path& file) {
    auto items = parser(file);
    items[3].fields["label"] = "dog";
    return items;
  };
  CHECK_THROWS_WITH_AS(mlq::preprocess(o, clashing),
                       doctest::Contains("list.txt: the test parser gives clips/c3.wav a field "
                                         "'label', which is a column of the index already"),
                       mlq::UserError);
}
