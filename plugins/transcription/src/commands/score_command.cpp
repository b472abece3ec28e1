#include <fmt/format.h>

#include <cstdio>

#include "commands/commands.hpp"
#include "data/midi_file.hpp"
#include "eval/note_metrics.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {
namespace {

std::string prf_json(const PRF& s) {
  return fmt::format(R"({{"precision": {:.17g}, "recall": {:.17g}, "f1": {:.17g}}})", s.precision,
                     s.recall, s.f1);
}

}  // namespace

int score_command(const std::vector<std::string>& args, const Registry&) {
  cxxopts::Options options("runner score",
                           "Note and frame metrics of a transcription against its reference, "
                           "with mir_eval's definitions: runner score REF.mid EST.mid [--json]");
  options.add_options()("task", "transcription", cxxopts::value<std::string>())(
      "json", "print JSON")("extend-pedal",
                            "extend the reference's notes held by its sustain pedal before "
                            "scoring (as the training targets do)",
                            cxxopts::value<bool>()->default_value("true"))(
      "extend-estimate",
      "extend the estimate's notes by its pedal too: for a performance MIDI whose notes end at "
      "the key release (runner predict's notes are already held by its pedal)",
      cxxopts::value<bool>()->default_value("false"))(
      "files", "REF.mid EST.mid", cxxopts::value<std::vector<std::string>>())("h,help",
                                                                              "this help");
  options.parse_positional({"files"});
  options.positional_help("REF.mid EST.mid");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const auto files = result.count("files") ? result["files"].as<std::vector<std::string>>()
                                           : std::vector<std::string>{};
  if (files.size() != 2)
    throw UserError(fmt::format(
        "expected REF.mid EST.mid, got {} file(s) (see runner score --help)", files.size()));
  // An extension is not idempotent (a note cut by a re-strike within a press is extended again),
  // so notes already held are not extended twice.
  auto notes_of = [&](const std::string& file, bool extend) {
    const Performance performance = read_midi(file);
    return extend ? extend_offsets_by_pedal(performance.notes, performance.pedals)
                  : performance.notes;
  };
  const NoteScores s = score_piece(notes_of(files[0], result["extend-pedal"].as<bool>()),
                                   notes_of(files[1], result["extend-estimate"].as<bool>()));
  if (result.count("json")) {
    std::printf(
        "{\"onset\": %s, \"onset_offset\": %s, \"onset_offset_velocity\": %s, "
        "\"frame\": %s}\n",
        prf_json(s.onset).c_str(), prf_json(s.onset_offset).c_str(),
        prf_json(s.onset_offset_velocity).c_str(), prf_json(s.frame).c_str());
    return 0;
  }
  std::printf("%-28s %9s %9s %9s\n", "", "precision", "recall", "f1");
  for (const auto& [name, prf] : {std::pair<const char*, const PRF&>{"note onset", s.onset},
                                  {"note onset+offset", s.onset_offset},
                                  {"note onset+offset+velocity", s.onset_offset_velocity},
                                  {"frame", s.frame}})
    std::printf("%-28s %9.4f %9.4f %9.4f\n", name, prf.precision, prf.recall, prf.f1);
  return 0;
}

}  // namespace mlq::transcription
