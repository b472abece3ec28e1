#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "eval/note_events.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using mlq::transcription::Performance;

namespace {

Performance sample() {
  Performance performance;
  performance.notes = {{0.25, 1.0, 60, 80}, {0.25, 0.5, 64, 70}, {1.5, 2.0, 21, 100}};
  performance.pedals = {{0.2, 1.2}};
  performance.duration = 2.5;
  return performance;
}

}  // namespace

TEST_CASE("note events: CSV rows in time order, pedal presses among the notes") {
  CHECK(mlq::transcription::note_events_csv(sample()) ==
        "kind,onset,offset,pitch,velocity\n"
        "pedal,0.200000,1.200000,,\n"
        "note,0.250000,1.000000,60,80\n"
        "note,0.250000,0.500000,64,70\n"
        "note,1.500000,2.000000,21,100\n");
  CHECK(mlq::transcription::note_events_csv({}) == "kind,onset,offset,pitch,velocity\n");
}

TEST_CASE("note events: JSON with the duration, the notes and the pedal presses") {
  const auto json = nlohmann::json::parse(mlq::transcription::note_events_json(sample()));
  CHECK(json["duration"] == 2.5);
  REQUIRE(json["notes"].size() == 3);
  CHECK(json["notes"][2] ==
        nlohmann::json{{"onset", 1.5}, {"offset", 2.0}, {"pitch", 21}, {"velocity", 100}});
  REQUIRE(json["pedals"].size() == 1);
  CHECK(json["pedals"][0]["offset"] == 1.2);
}

TEST_CASE("note events: the piano roll PNG decodes in PIL at 50 pixels a second, 3 per key") {
  mlq::test::TempDir dir;
  const auto png = dir / "roll.png";
  mlq::test::write_file(png, mlq::transcription::piano_roll_png(sample()));
  const auto decoded = mlq::test::run_process(
      {"/usr/bin/python3", "-c",
       "import sys; from PIL import Image; im = Image.open(sys.argv[1]); im.load(); "
       "print(im.size[0], im.size[1], im.getpixel((20, 88 * 3 - 1)))",
       png.string()});
  REQUIRE_MESSAGE(decoded.exit_code == 0, decoded.out);
  // 2.5 s wide; A0 (the note at 1.5-2.0 s) in the bottom row, drawn in the predicted colour.
  CHECK(decoded.out.rfind("125 264 ", 0) == 0);
  const auto late =
      mlq::test::run_process({"/usr/bin/python3", "-c",
                              "import sys; from PIL import Image; im = Image.open(sys.argv[1]); "
                              "print(im.getpixel((80, 88 * 3 - 1)))",
                              png.string()});
  CHECK(late.out == "(234, 67, 53)\n");

  Performance long_piece = sample();
  long_piece.duration = 3600;  // an hour: narrower than 50 pixels a second
  mlq::test::write_file(png, mlq::transcription::piano_roll_png(long_piece));
  const auto wide = mlq::test::run_process(
      {"/usr/bin/python3", "-c",
       "import sys; from PIL import Image; print(Image.open(sys.argv[1]).size)", png.string()});
  CHECK(wide.out == "(20000, 264)\n");
}
