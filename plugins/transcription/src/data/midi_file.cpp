#include "data/midi_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "mlq/plugin_base.hpp"

namespace mlq::transcription {
namespace {

constexpr uint32_t kDefaultTempo = 500000;  // microseconds per quarter note: 120 bpm
constexpr int kWriteTicksPerQuarter = 480;
constexpr int64_t kMaxWriteTick = 0x0FFFFFFF;  // the largest delta time (4 bytes) a file can hold

std::string hex(unsigned value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%02X", value);
  return text;
}

bool is_printable(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

// A channel message the reader keeps: note-on, note-off or CC64.
struct ChannelEvent {
  int64_t tick = 0;
  int track = 0;
  uint8_t status = 0;
  uint8_t data1 = 0;
  uint8_t data2 = 0;
};

struct TempoChange {
  int64_t tick = 0;
  uint32_t tempo = 0;
};

class Parser {
 public:
  Parser(const std::string& bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  Performance parse() {
    read_chunks();
    return build();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw UserError(name_ + ": " + what); }

  uint32_t big_endian(size_t pos, int size) const {
    uint32_t value = 0;
    for (int i = 0; i < size; ++i) value = value << 8 | static_cast<uint8_t>(bytes_[pos + i]);
    return value;
  }

  void read_chunks() {
    const size_t size = bytes_.size();
    if (size < 4 || bytes_.compare(0, 4, "MThd") != 0) fail("not a MIDI file (no MThd header)");
    if (size < 14)
      fail("truncated header (expected 14 bytes, the file has " + std::to_string(size) + ")");
    const uint32_t header_size = big_endian(4, 4);
    if (header_size < 6)
      fail("header chunk of " + std::to_string(header_size) + " bytes (expected at least 6)");
    if (size - 8 < header_size)
      fail("truncated header (expected " + std::to_string(header_size + 8ull) +
           " bytes, the file has " + std::to_string(size) + ")");
    const uint32_t format = big_endian(8, 2);
    track_count_ = static_cast<int>(big_endian(10, 2));
    const uint32_t division = big_endian(12, 2);
    if (format == 2) fail("MIDI format 2 (independent sequences) is not supported, only 0 and 1");
    if (format > 2) fail("unknown MIDI format " + std::to_string(format) + " (expected 0 or 1)");
    if (division & 0x8000)
      fail("SMPTE time division (" + hex(division) +
           ") is not supported, only ticks per quarter note");
    if (division == 0) fail("time division of 0 ticks per quarter note");
    ticks_per_quarter_ = division;

    size_t pos = 8 + header_size;
    int tracks_read = 0;
    while (tracks_read < track_count_) {
      const std::string track =
          "track " + std::to_string(tracks_read + 1) + " of " + std::to_string(track_count_);
      if (pos == size)
        fail("truncated: the header announces " + std::to_string(track_count_) +
             " tracks, the file ends after " + std::to_string(tracks_read));
      if (size - pos < 8)
        fail("truncated chunk header of " + track + " at byte " + std::to_string(pos) +
             " (expected 8 bytes, found " + std::to_string(size - pos) + ")");
      const std::string id = bytes_.substr(pos, 4);
      const uint32_t length = big_endian(pos + 4, 4);
      const size_t data = pos + 8;
      // Unknown chunks are skipped (as the standard asks); bytes that are not even a chunk name
      // mean the file is corrupt.
      if (id != "MTrk" && !is_printable(id))
        fail("expected an MTrk chunk for " + track + " at byte " + std::to_string(pos) +
             ", found bytes " + hex(static_cast<uint8_t>(id[0])) + " " +
             hex(static_cast<uint8_t>(id[1])) + " " + hex(static_cast<uint8_t>(id[2])) + " " +
             hex(static_cast<uint8_t>(id[3])));
      if (size - data < length)
        fail("truncated " + (id == "MTrk" ? track : "chunk '" + id + "'") + " at byte " +
             std::to_string(size) + " (expected " + std::to_string(length - (size - data)) +
             " more bytes)");
      if (id == "MTrk") read_track(data, data + length, ++tracks_read);
      pos = data + length;
    }
    // Bytes after the announced tracks are ignored, as other readers do.
  }

  void read_track(size_t begin, const size_t end, int track) {
    const std::string where =
        "track " + std::to_string(track) + " of " + std::to_string(track_count_) + ", byte ";
    size_t pos = begin;
    size_t event_start = begin;
    auto need = [&](size_t count) {
      if (end - pos < count)
        fail("truncated event in track " + std::to_string(track) + " of " +
             std::to_string(track_count_) + " at byte " + std::to_string(event_start) +
             " (the track chunk ends at byte " + std::to_string(end) + ")");
    };
    auto next_byte = [&] {
      need(1);
      return static_cast<uint8_t>(bytes_[pos++]);
    };
    auto variable_length = [&] {
      const size_t start = pos;
      uint32_t value = 0;
      for (int i = 0; i < 4; ++i) {
        const uint8_t byte = next_byte();
        value = value << 7 | (byte & 0x7F);
        if (!(byte & 0x80)) return value;
      }
      fail(where + std::to_string(start) + ": variable-length number longer than 4 bytes");
    };

    int64_t tick = 0;
    uint8_t running_status = 0;  // 0: none yet
    while (pos < end) {
      event_start = pos;
      tick += variable_length();
      last_tick_ = std::max(last_tick_, tick);
      const size_t status_pos = pos;
      uint8_t status = next_byte();
      std::optional<uint8_t> first_data;
      if (status < 0x80) {
        if (running_status == 0)
          fail(where + std::to_string(status_pos) + ": data byte " + hex(status) +
               " where a status byte was expected (no running status)");
        first_data = status;
        status = running_status;
      }
      if (status == 0xFF) {
        const uint8_t type = next_byte();
        const uint32_t length = variable_length();
        need(length);
        if (type == 0x2F) return;  // end of track: anything after it is not part of the track
        if (type == 0x51) {
          if (length != 3)
            fail(where + std::to_string(event_start) + ": set-tempo event of " +
                 std::to_string(length) + " bytes (expected 3)");
          const uint32_t tempo = big_endian(pos, 3);
          if (tempo == 0) fail(where + std::to_string(event_start) + ": tempo of 0 microseconds");
          tempos_.push_back({tick, tempo});
        }
        pos += length;
      } else if (status == 0xF0 || status == 0xF7) {
        const uint32_t length = variable_length();
        need(length);
        pos += length;
      } else if (status >= 0xF0) {
        fail(where + std::to_string(status_pos) + ": status byte " + hex(status) +
             " is not allowed in a MIDI file");
      } else {
        running_status = status;
        const int kind = status & 0xF0;
        const int data_count = kind == 0xC0 || kind == 0xD0 ? 1 : 2;
        uint8_t data[2] = {0, 0};
        for (int i = 0; i < data_count; ++i) {
          const size_t data_pos = pos;
          data[i] = i == 0 && first_data ? *first_data : next_byte();
          if (data[i] >= 0x80)
            fail(where + std::to_string(data_pos) + ": data byte " + hex(data[i]) +
                 " of a channel message has its top bit set");
        }
        if (kind == 0x80 || kind == 0x90 || (kind == 0xB0 && data[0] == 64))
          events_.push_back({tick, track, status, data[0], data[1]});
      }
    }
  }

  // Seconds of every tick, piecewise over the tempo map.
  class TempoMap {
   public:
    TempoMap(std::vector<TempoChange> changes, uint32_t ticks_per_quarter)
        : ticks_per_quarter_(ticks_per_quarter) {
      std::stable_sort(changes.begin(), changes.end(),
                       [](const TempoChange& a, const TempoChange& b) { return a.tick < b.tick; });
      segments_.push_back({0, 0.0, kDefaultTempo});
      for (const TempoChange& change : changes) {
        if (change.tick == segments_.back().tick) {
          segments_.back().tempo = change.tempo;
        } else {
          segments_.push_back({change.tick, seconds(change.tick), change.tempo});
        }
      }
    }

    double seconds(int64_t tick) const {
      auto after = std::upper_bound(segments_.begin(), segments_.end(), tick,
                                    [](int64_t t, const Segment& s) { return t < s.tick; });
      const Segment& segment = *(after - 1);
      return segment.seconds +
             static_cast<double>(tick - segment.tick) * segment.tempo / (1e6 * ticks_per_quarter_);
    }

   private:
    struct Segment {
      int64_t tick;
      double seconds;
      uint32_t tempo;
    };
    uint32_t ticks_per_quarter_;
    std::vector<Segment> segments_;
  };

  Performance build() {
    const TempoMap tempo_map(tempos_, ticks_per_quarter_);
    std::stable_sort(events_.begin(), events_.end(),
                     [](const ChannelEvent& a, const ChannelEvent& b) { return a.tick < b.tick; });
    Performance performance;
    performance.duration = tempo_map.seconds(last_tick_);

    // (track, channel, pitch) -> open notes (onset, velocity), earliest first.
    std::map<int64_t, std::deque<std::pair<double, int>>> open_notes;
    std::array<std::optional<double>, 16> pedal_down;
    std::vector<Pedal> pedals;
    for (const ChannelEvent& event : events_) {
      const double time = tempo_map.seconds(event.tick);
      const int kind = event.status & 0xF0;
      const int channel = event.status & 0x0F;
      const int64_t key = (static_cast<int64_t>(event.track) * 16 + channel) * 128 + event.data1;
      if (kind == 0x90 && event.data2 > 0) {
        open_notes[key].push_back({time, event.data2});
      } else if (kind == 0x80 || kind == 0x90) {
        auto open = open_notes.find(key);
        if (open == open_notes.end() || open->second.empty()) continue;
        const auto [onset, velocity] = open->second.front();
        open->second.pop_front();
        performance.notes.push_back({onset, time, event.data1, velocity});
      } else if (event.data2 >= 64) {
        if (!pedal_down[channel]) pedal_down[channel] = time;
      } else if (pedal_down[channel]) {
        pedals.push_back({*pedal_down[channel], time});
        pedal_down[channel].reset();
      }
    }
    for (const auto& [key, notes] : open_notes)
      for (const auto& [onset, velocity] : notes)
        performance.notes.push_back(
            {onset, performance.duration, static_cast<int>(key % 128), velocity});
    for (const auto& down : pedal_down)
      if (down) pedals.push_back({*down, performance.duration});

    std::sort(performance.notes.begin(), performance.notes.end(), [](const Note& a, const Note& b) {
      return std::tie(a.onset, a.pitch, a.offset, a.velocity) <
             std::tie(b.onset, b.pitch, b.offset, b.velocity);
    });
    std::sort(pedals.begin(), pedals.end(), [](const Pedal& a, const Pedal& b) {
      return std::tie(a.onset, a.offset) < std::tie(b.onset, b.offset);
    });
    for (const Pedal& pedal : pedals) {
      if (!performance.pedals.empty() && pedal.onset < performance.pedals.back().offset) {
        performance.pedals.back().offset = std::max(performance.pedals.back().offset, pedal.offset);
      } else {
        performance.pedals.push_back(pedal);
      }
    }
    return performance;
  }

  const std::string& bytes_;
  const std::string& name_;
  int track_count_ = 0;
  uint32_t ticks_per_quarter_ = 0;
  int64_t last_tick_ = 0;
  std::vector<ChannelEvent> events_;
  std::vector<TempoChange> tempos_;
};

void put_big_endian(std::string& out, uint32_t value, int size) {
  for (int i = size - 1; i >= 0; --i) out += static_cast<char>(value >> (8 * i) & 0xFF);
}

void put_variable_length(std::string& out, uint32_t value) {
  char groups[5];
  int count = 0;
  groups[count++] = static_cast<char>(value & 0x7F);
  while ((value >>= 7) != 0) groups[count++] = static_cast<char>(0x80 | (value & 0x7F));
  while (count > 0) out += groups[--count];
}

void put_chunk(std::string& out, const char* id, const std::string& data) {
  out += id;
  put_big_endian(out, static_cast<uint32_t>(data.size()), 4);
  out += data;
}

// Ticks of a time in seconds, checked to fit a MIDI file with one tick to spare (for the minimum
// length of notes and presses).
int64_t to_tick(double seconds, const std::string& what, double ticks_per_second) {
  const double ticks = seconds * ticks_per_second;
  if (!std::isfinite(seconds) || seconds < 0 || std::round(ticks) >= kMaxWriteTick)
    throw std::invalid_argument("midi_bytes: " + what + " is " + std::to_string(seconds) +
                                " s (expected 0 to " +
                                std::to_string((kMaxWriteTick - 1) / ticks_per_second) + ")");
  return std::llround(ticks);
}

}  // namespace

Performance parse_midi(const std::string& bytes, const std::string& name) {
  return Parser(bytes, name).parse();
}

Performance read_midi(const std::filesystem::path& path) {
  return parse_midi(read_file_bytes(path), path.string());
}

std::string midi_bytes(const Performance& performance, double bpm) {
  if (!(bpm >= kMinBpm && bpm <= kMaxBpm))
    throw std::invalid_argument("midi_bytes: tempo " + std::to_string(bpm) + " bpm (expected " +
                                std::to_string(kMinBpm) + " to " + std::to_string(kMaxBpm) + ")");
  const auto tempo = static_cast<uint32_t>(std::lround(60e6 / bpm));  // microseconds per quarter
  const double ticks_per_second = kWriteTicksPerQuarter * 1e6 / tempo;
  auto to_tick = [&](double seconds, const std::string& what) {
    return transcription::to_tick(seconds, what, ticks_per_second);
  };
  struct Event {
    int64_t tick;
    int order;  // at one tick: note-offs, pedal up, pedal down, note-ons
    int pitch;
    uint8_t bytes[3];
  };
  std::vector<Event> events;
  for (size_t i = 0; i < performance.notes.size(); ++i) {
    const Note& note = performance.notes[i];
    const std::string what = "note " + std::to_string(i);
    if (note.pitch < 0 || note.pitch > 127)
      throw std::invalid_argument("midi_bytes: " + what + " has pitch " +
                                  std::to_string(note.pitch) + " (expected 0..127)");
    if (note.velocity < 1 || note.velocity > 127)
      throw std::invalid_argument("midi_bytes: " + what + " has velocity " +
                                  std::to_string(note.velocity) + " (expected 1..127)");
    const int64_t onset = to_tick(note.onset, what + " onset");
    const int64_t offset = to_tick(note.offset, what + " offset");
    if (note.offset < note.onset)
      throw std::invalid_argument("midi_bytes: " + what + " ends before it starts");
    const auto pitch = static_cast<uint8_t>(note.pitch);
    events.push_back({onset, 3, pitch, {0x90, pitch, static_cast<uint8_t>(note.velocity)}});
    events.push_back({std::max(offset, onset + 1), 0, pitch, {0x80, pitch, 64}});
  }

  std::vector<std::pair<int64_t, int64_t>> pedals;
  for (size_t i = 0; i < performance.pedals.size(); ++i) {
    const Pedal& pedal = performance.pedals[i];
    const std::string what = "pedal " + std::to_string(i);
    const int64_t onset = to_tick(pedal.onset, what + " onset");
    const int64_t offset = to_tick(pedal.offset, what + " offset");
    if (pedal.offset < pedal.onset)
      throw std::invalid_argument("midi_bytes: " + what + " ends before it starts");
    pedals.push_back({onset, std::max(offset, onset + 1)});
  }
  // Overlapping presses would read back wrong (a second down is ignored): write their union.
  std::sort(pedals.begin(), pedals.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& pedal : pedals) {
    if (!merged.empty() && pedal.first < merged.back().second) {
      merged.back().second = std::max(merged.back().second, pedal.second);
    } else {
      merged.push_back(pedal);
    }
  }
  for (const auto& [onset, offset] : merged) {
    events.push_back({onset, 2, 0, {0xB0, 64, 127}});
    events.push_back({offset, 1, 0, {0xB0, 64, 0}});
  }

  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tie(a.tick, a.order, a.pitch) < std::tie(b.tick, b.order, b.pitch);
  });
  std::string piano;
  int64_t tick = 0;
  for (const Event& event : events) {
    put_variable_length(piano, static_cast<uint32_t>(event.tick - tick));
    piano.append(reinterpret_cast<const char*>(event.bytes), 3);
    tick = event.tick;
  }
  const int64_t end = std::max(tick, to_tick(performance.duration, "duration"));
  put_variable_length(piano, static_cast<uint32_t>(end - tick));
  piano += std::string("\xFF\x2F\x00", 3);

  // The tempo, time signature 4/4, end of track.
  std::string conductor("\x00\xFF\x51\x03", 4);
  put_big_endian(conductor, tempo, 3);
  conductor += std::string(
      "\x00\xFF\x58\x04\x04\x02\x18\x08"
      "\x00\xFF\x2F\x00",
      12);
  std::string out = "MThd";
  put_big_endian(out, 6, 4);
  put_big_endian(out, 1, 2);  // format 1
  put_big_endian(out, 2, 2);  // tracks
  put_big_endian(out, kWriteTicksPerQuarter, 2);
  put_chunk(out, "MTrk", conductor);
  put_chunk(out, "MTrk", piano);
  return out;
}

void write_midi(const std::filesystem::path& path, const Performance& performance, double bpm) {
  write_file_atomic(path, midi_bytes(performance, bpm));
}

// A port of TargetProcessor.extend_pedal from bytedance/piano_transcription (utils/utilities.py),
// which builds the training targets of Kong et al. 2021. Like the reference it walks the notes in
// offset order (the order its reader emits them) and the presses in onset order; for each press it
// takes notes until one ends after the release, and:
// - extends a note whose offset is strictly between press and release to the release;
// - when a note of the same pitch was already extended within this press, cuts that earlier note
//   at the later note's onset (a re-struck key stops the sustained string);
// - fixed: the reference drops the note that ends a press's walk (offset after the release)
//   instead of looking at it again for the next press, so the first note released after each
//   release was never extended even when released under the next press; here it is;
// - kept quirk: only same-pitch notes that are themselves extended cut the earlier one, so a
//   re-strike during the press that is released after it overlaps the extended note.
// One guard the reference lacks: a cut never moves an offset before its own note's onset (only
// possible for overlapping same-pitch notes, which the reference's reader never produces).
// Ties in offset are taken in (onset, pitch) order.
std::vector<Note> extend_offsets_by_pedal(std::vector<Note> notes,
                                          const std::vector<Pedal>& pedals) {
  std::sort(notes.begin(), notes.end(), [](const Note& a, const Note& b) {
    return std::tie(a.offset, a.onset, a.pitch, a.velocity) <
           std::tie(b.offset, b.onset, b.pitch, b.velocity);
  });
  std::vector<Pedal> presses = pedals;
  std::stable_sort(presses.begin(), presses.end(),
                   [](const Pedal& a, const Pedal& b) { return a.onset < b.onset; });

  size_t next = 0;
  for (const Pedal& press : presses) {
    std::map<int, size_t> extended;  // pitch -> the note extended last within this press
    while (next < notes.size()) {
      const size_t index = next++;
      Note& note = notes[index];
      if (press.onset < note.offset && note.offset < press.offset) {
        auto earlier = extended.find(note.pitch);
        if (earlier != extended.end()) {
          Note& cut = notes[earlier->second];
          cut.offset = std::max(cut.onset, note.onset);
        }
        note.offset = press.offset;
        extended[note.pitch] = index;
      }
      if (note.offset > press.offset) {
        --next;  // the next press looks at this note again
        break;
      }
    }
  }

  std::sort(notes.begin(), notes.end(), [](const Note& a, const Note& b) {
    return std::tie(a.onset, a.pitch, a.offset, a.velocity) <
           std::tie(b.onset, b.pitch, b.offset, b.velocity);
  });
  return notes;
}

}  // namespace mlq::transcription
