#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "data/class_csv.hpp"
#include "data/families.hpp"
#include "data/phrase.hpp"
#include "mlq/util/error.hpp"
#include "support/temp_dir.hpp"

using namespace mlq::classification;
using mlq::test::TempDir;
using mlq::test::write_file;
namespace fs = std::filesystem;

TEST_CASE("the NSynth families: 11, in order, each with General MIDI programs of its own") {
  const auto& families = nsynth_families();
  REQUIRE(families.size() == 11);
  CHECK(families.front().name == "bass");
  CHECK(families.back().name == "vocal");
  std::set<int> programs;
  for (const Family& f : families) {
    CHECK(!f.programs.empty());
    CHECK(f.low_pitch < f.high_pitch);
    for (int p : f.programs) {
      CHECK(p >= 0);
      CHECK(p < 128);
      CHECK_MESSAGE(programs.insert(p).second, "program ", p, " in two families");
    }
  }
  CHECK(std::is_sorted(families.begin(), families.end(),
                       [](const Family& a, const Family& b) { return a.name < b.name; }));
}

TEST_CASE("phrases: from the seed alone, in the family's range, ending before the clip does") {
  std::set<size_t> note_counts;
  for (const Family& family : nsynth_families())
    for (uint64_t seed = 0; seed < 40; ++seed) {
      const Phrase a = compose_phrase(family, seed, 2.0), b = compose_phrase(family, seed, 2.0);
      CHECK(a.program == b.program);
      REQUIRE(a.performance.notes.size() == b.performance.notes.size());
      REQUIRE(!a.performance.notes.empty());
      CHECK(std::find(family.programs.begin(), family.programs.end(), a.program) !=
            family.programs.end());
      CHECK(a.performance.duration <= 1.8 + 1e-9);
      for (const mlq::Note& n : a.performance.notes) {
        CHECK(n.offset > n.onset);
        CHECK(n.velocity >= 1);
        CHECK(n.pitch >= family.low_pitch);
        CHECK(n.pitch <= family.high_pitch + 24);  // chords reach above the range's top
      }
      note_counts.insert(a.performance.notes.size());
    }
  CHECK(note_counts.size() >= 4);  // held notes, runs, lines and chords
}

TEST_CASE("class_csv reads ESC-50's meta/esc50.csv with its audio/ folder, class and fold") {
  TempDir dir;
  fs::create_directories(dir / "meta");
  fs::create_directories(dir / "audio");
  write_file(dir / "audio" / "1-100032-A-0.wav", "x");
  write_file(dir / "audio" / "2-100038-A-14.wav", "x");
  write_file(dir / "meta" / "esc50.csv",
             "filename,fold,target,category,esc10,src_file,take\n"
             "1-100032-A-0.wav,1,0,dog,True,100032,A\n"
             "2-100038-A-14.wav,2,14,chirping_birds,False,100038,A\n");
  const auto items = class_csv_items(dir / "meta" / "esc50.csv");
  REQUIRE(items.size() == 2);
  CHECK(fs::path(items[0].audio) == fs::absolute(dir / "audio" / "1-100032-A-0.wav"));
  CHECK(items[0].split.empty());  // preprocessing's seeded split, unless data.fold is set
  CHECK(items[0].fields.at("class") == "dog");
  CHECK(items[1].fields.at("class") == "chirping_birds");
  CHECK(items[1].fields.at("fold") == "2");

  // A plain filename,label,split CSV beside its files.
  write_file(dir / "list.csv", "file,label,split\naudio/1-100032-A-0.wav,dog,train\n");
  const auto plain = class_csv_items(dir / "list.csv");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].split == "train");
  CHECK(plain[0].fields.count("fold") == 0);

  write_file(dir / "bad.csv", "filename,category\n");
  CHECK_THROWS_WITH_AS(class_csv_items(dir / "bad.csv"), doctest::Contains("no rows"),
                       mlq::UserError);
  write_file(dir / "bad.csv", "name,category\na.wav,dog\n");
  CHECK_THROWS_WITH_AS(class_csv_items(dir / "bad.csv"),
                       doctest::Contains("expected a header with the columns filename"),
                       mlq::UserError);
  write_file(dir / "bad.csv", "filename,category,fold\na.wav,dog,1\nb.wav,cat,two\n");
  CHECK_THROWS_WITH_AS(class_csv_items(dir / "bad.csv"),
                       doctest::Contains("bad.csv: line 3: fold \"two\" is not a positive whole"),
                       mlq::UserError);
  write_file(dir / "bad.csv", "filename,category\na.wav,\n");
  CHECK_THROWS_WITH_AS(class_csv_items(dir / "bad.csv"),
                       doctest::Contains("line 2: empty category"), mlq::UserError);
}
