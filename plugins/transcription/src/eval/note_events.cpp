#include "eval/note_events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "eval/piano_roll_image.hpp"
#include "mlq/plugin_base.hpp"

namespace mlq::transcription {

std::string note_events_csv(const Performance& performance) {
  struct Row {
    double onset, offset;
    int pitch, velocity;  // pitch 0: a pedal press
  };
  std::vector<Row> rows;
  for (const Note& note : performance.notes)
    rows.push_back({note.onset, note.offset, note.pitch, note.velocity});
  for (const Pedal& pedal : performance.pedals) rows.push_back({pedal.onset, pedal.offset, 0, 0});
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.onset, a.pitch) < std::tie(b.onset, b.pitch);
  });
  std::string csv = "kind,onset,offset,pitch,velocity\n";
  for (const Row& row : rows)
    csv += row.pitch == 0 ? fmt::format("pedal,{:.6f},{:.6f},,\n", row.onset, row.offset)
                          : fmt::format("note,{:.6f},{:.6f},{},{}\n", row.onset, row.offset,
                                        row.pitch, row.velocity);
  return csv;
}

std::string note_events_json(const Performance& performance) {
  nlohmann::ordered_json notes = nlohmann::ordered_json::array();
  for (const Note& note : performance.notes)
    notes.push_back({{"onset", note.onset},
                     {"offset", note.offset},
                     {"pitch", note.pitch},
                     {"velocity", note.velocity}});
  nlohmann::ordered_json pedals = nlohmann::ordered_json::array();
  for (const Pedal& pedal : performance.pedals)
    pedals.push_back({{"onset", pedal.onset}, {"offset", pedal.offset}});
  const nlohmann::ordered_json events{
      {"duration", performance.duration}, {"notes", notes}, {"pedals", pedals}};
  return events.dump(1) + "\n";
}

std::string piano_roll_png(const Performance& performance) {
  constexpr double kMaxWidth = 20000;
  const double seconds = std::max(performance.duration, 0.01);
  const double pixels_per_second = std::min(50.0, kMaxWidth / seconds);
  int width = 0, height = 0;
  const std::vector<uint8_t> rgb =
      piano_roll_rgb({}, performance.notes, 0, seconds, pixels_per_second, width, height);
  return encode_png_rgb(rgb.data(), width, height);
}

}  // namespace mlq::transcription
