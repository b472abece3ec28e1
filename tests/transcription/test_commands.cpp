// The transcription plugin's commands through the real runner and the real plugin: synth writes
// a MAESTRO-layout data set that preprocess reads; score prints mir_eval metrics of MIDI files.
// Training and the commands that use its checkpoints: test_end_to_end.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "data/midi_file.hpp"
#include "mlq/audio/audio_io.hpp"
#include "mlq/audio/maestro.hpp"
#include "mlq/audio/preprocess.hpp"
#include "mlq/util/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace mlq::test;

namespace {

constexpr const char* kTrainFont = "/usr/share/sounds/sf2/TimGM6mb.sf2";
constexpr const char* kEvalFont = "/usr/share/sounds/sf3/FluidR3Mono_GM.sf3";

fs::path synth_config(const TempDir& dir, const std::string& destination) {
  const fs::path file = dir / (destination + ".toml");
  write_file(file, std::string("task = \"transcription\"\n[data.synth]\n") +
                       "destination_path = \"" + destination + "\"\n" +
                       "pieces = [2, 1, 1]\npiece_seconds = 3\n" + "soundfonts = [\"" + kTrainFont +
                       "\"]\n" + "eval_soundfonts = [\"" + kEvalFont + "\"]\n" +
                       "[data.preprocess]\nsource_path = \"" + destination + "\"\n" +
                       "destination_path = \"processed\"\nmetadata = "
                       "\"synth-piano.csv\"\nlabel_ext = \"midi\"\n");
  return file;
}

ProcessResult runner_in(const TempDir& dir, std::vector<std::string> args) {
  return run_runner(args, dir.path());
}

}  // namespace

TEST_CASE("synth writes a reproducible MAESTRO-layout data set that preprocess reads") {
  TempDir dir;
  const std::string config = "--config=" + synth_config(dir, "raw").string();
  auto made = runner_in(dir, {"synth", config});
  REQUIRE_MESSAGE(made.exit_code == 0, made.out);
  CHECK_MESSAGE(made.out.find("rendered 5 pieces") != std::string::npos, made.out);

  const auto records = mlq::read_maestro_metadata(dir / "raw" / "synth-piano.csv");
  REQUIRE(records.size() == 4);
  CHECK(records[0].split == "train");
  CHECK(records[2].split == "validation");
  CHECK(records[3].split == "test");
  for (const auto& record : records) {
    const auto info = mlq::audio_info(dir / "raw" / record.audio_filename);
    CHECK(info.sample_rate == 16000);
    CHECK(info.duration == doctest::Approx(4.0));
    const auto piece = mlq::transcription::read_midi(dir / "raw" / record.midi_filename);
    CHECK(piece.notes.size() > 5);
    CHECK(piece.notes.back().offset <= 3.0 + 1e-3);
  }
  const auto eval = mlq::read_maestro_metadata(dir / "raw" / "synth-piano-eval-FluidR3Mono_GM.csv");
  REQUIRE(eval.size() == 1);
  CHECK(eval[0].split == "test");
  // The evaluation copy plays the same notes with another timbre.
  CHECK(read_file(dir / "raw" / eval[0].midi_filename) ==
        read_file(dir / "raw" / records[3].midi_filename));
  CHECK(read_file(dir / "raw" / eval[0].audio_filename) !=
        read_file(dir / "raw" / records[3].audio_filename));

  auto again = runner_in(dir, {"synth", config});
  CHECK_MESSAGE(again.out.find("is up to date") != std::string::npos, again.out);

  // Same options elsewhere: the same bytes. Another seed: other music.
  const std::string copy = "--config=" + synth_config(dir, "copy").string();
  REQUIRE(runner_in(dir, {"synth", copy}).exit_code == 0);
  CHECK(read_file(dir / "copy" / "2026" / "piece-0001.wav") ==
        read_file(dir / "raw" / "2026" / "piece-0001.wav"));
  REQUIRE(runner_in(dir, {"synth", copy, "++data.synth.seed=7"}).exit_code == 0);
  CHECK(read_file(dir / "copy" / "2026" / "piece-0001.midi") !=
        read_file(dir / "raw" / "2026" / "piece-0001.midi"));
  // Training pieces cycling through two General MIDI pianos: the second plays program 2 (the
  // same notes, another timbre); validation and test pieces stay the acoustic grand.
  REQUIRE(runner_in(dir, {"synth", copy, "++data.synth.train_programs=[0, 2]"}).exit_code == 0);
  auto same_file = [&](const std::string& name) {
    return read_file(dir / "copy" / "2026" / name) == read_file(dir / "raw" / "2026" / name);
  };
  CHECK(same_file("piece-0000.wav"));
  CHECK(same_file("piece-0001.midi"));
  CHECK_FALSE(same_file("piece-0001.wav"));
  CHECK(same_file("piece-0002.wav"));
  CHECK(same_file("piece-0003.wav"));
  CHECK(read_file(dir / "copy" / "synth-piano.csv").find("\"Piece 1 (TimGM6mb, program 2)\"") !=
        std::string::npos);

  auto processed = runner_in(dir, {"preprocess", config});
  REQUIRE_MESSAGE(processed.exit_code == 0, processed.out);
  const auto index = mlq::read_index(dir / "processed" / "index.csv");
  REQUIRE(index.size() == 4);
  CHECK(index[3].split == "test");
  CHECK(index[3].label == "2026/piece-0003.midi");
}

TEST_CASE("synth errors name the key or the soundfont") {
  TempDir dir;
  const std::string config = "--config=" + synth_config(dir, "raw").string();
  auto missing = runner_in(dir, {"synth", config, "data.synth.soundfonts=[\"/no/such.sf2\"]"});
  CHECK(missing.exit_code == 2);
  CHECK_MESSAGE(missing.out.find("/no/such.sf2: no such soundfont") != std::string::npos,
                missing.out);
  auto same = runner_in(
      dir, {"synth", config, std::string("data.synth.eval_soundfonts=[\"") + kTrainFont + "\"]"});
  CHECK(same.exit_code == 2);
  CHECK_MESSAGE(same.out.find("data.synth.eval_soundfonts") != std::string::npos, same.out);
  auto programs = runner_in(dir, {"synth", config, "++data.synth.train_programs=[0, 128]"});
  CHECK(programs.exit_code == 2);
  CHECK_MESSAGE(programs.out.find("data.synth.train_programs") != std::string::npos, programs.out);
  auto pieces = runner_in(dir, {"synth", config, "data.synth.pieces=[0, 1, 1]"});
  CHECK(pieces.exit_code == 2);
  CHECK_MESSAGE(pieces.out.find("data.synth.pieces") != std::string::npos, pieces.out);
  CHECK(!fs::exists(dir / "raw" / "synth-piano.csv"));
}

TEST_CASE("score prints mir_eval metrics of two MIDI files") {
  TempDir dir;
  using mlq::transcription::Note;
  mlq::transcription::Performance ref, est;
  ref.notes = {{0.5, 1.0, 60, 80}, {1.0, 1.5, 64, 80}, {2.0, 3.0, 67, 80}};
  est.notes = {{0.52, 1.0, 60, 80}, {1.2, 1.5, 64, 80}};  // one hit, one late, one missed
  ref.duration = 3;
  est.duration = 3;
  mlq::transcription::write_midi(dir / "ref.mid", ref);
  mlq::transcription::write_midi(dir / "est.mid", est);
  auto json =
      runner_in(dir, {"score", (dir / "ref.mid").string(), (dir / "est.mid").string(), "--json"});
  REQUIRE_MESSAGE(json.exit_code == 0, json.out);
  CHECK_MESSAGE(json.out.find(R"("onset": {"precision": 0.5, "recall": 0.33333333333333331)") !=
                    std::string::npos,
                json.out);
  auto table = runner_in(dir, {"score", "--task=transcription", (dir / "ref.mid").string(),
                               (dir / "ref.mid").string()});
  REQUIRE_MESSAGE(table.exit_code == 0, table.out);
  CHECK(table.out.find("note onset                      1.0000    1.0000    1.0000") !=
        std::string::npos);

  // The pedal: the reference's notes are extended by it, the estimate's only when asked (a
  // performance MIDI whose notes end at the key release).
  ref.notes = {{0.5, 1.0, 60, 80}, {1.0, 1.5, 64, 80}, {2.0, 2.2, 67, 80}};
  ref.pedals = {{1.9, 2.8}};
  est.notes = ref.notes;
  est.pedals = ref.pedals;
  mlq::transcription::write_midi(dir / "ref.mid", ref);
  mlq::transcription::write_midi(dir / "est.mid", est);
  const std::string files[] = {(dir / "ref.mid").string(), (dir / "est.mid").string()};
  auto onset_offset_f1 = [&](std::vector<std::string> options) {
    options.insert(options.begin(), {"score", files[0], files[1], "--json"});
    const auto scored = runner_in(dir, options);
    REQUIRE_MESSAGE(scored.exit_code == 0, scored.out);
    const auto at = scored.out.find("\"onset_offset\"");
    return scored.out.substr(at, scored.out.find('}', at) - at);
  };
  CHECK(onset_offset_f1({}).find("\"f1\": 0.66666666666666663") != std::string::npos);
  CHECK(onset_offset_f1({"--extend-estimate"}).find("\"f1\": 1") != std::string::npos);
  CHECK(onset_offset_f1({"--extend-pedal=false"}).find("\"f1\": 1") != std::string::npos);

  write_file(dir / "bad.mid", "MThd");
  auto bad = runner_in(dir, {"score", (dir / "ref.mid").string(), (dir / "bad.mid").string()});
  CHECK(bad.exit_code == 2);
  CHECK_MESSAGE(bad.out.find("bad.mid: ") != std::string::npos, bad.out);
  auto one = runner_in(dir, {"score", (dir / "ref.mid").string()});
  CHECK(one.exit_code == 2);
  CHECK_MESSAGE(one.out.find("expected REF.mid EST.mid") != std::string::npos, one.out);
}

TEST_CASE("plugin commands: unknown names and tasks without the command are one-line errors") {
  TempDir dir;
  auto unknown = runner_in(dir, {"scroe"});
  CHECK(unknown.exit_code == 2);
  CHECK_MESSAGE(
      unknown.out.find("unknown command 'scroe'; did you mean 'score'?") != std::string::npos,
      unknown.out);
  auto wrong_task = runner_in(dir, {"score", "--task=regression", "a.mid", "b.mid"});
  CHECK(wrong_task.exit_code == 2);
  CHECK_MESSAGE(
      wrong_task.out.find("task 'regression' has no command 'score'") != std::string::npos,
      wrong_task.out);
}
