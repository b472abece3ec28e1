#include "eval/postprocess.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>

#include "data/midi_file.hpp"

namespace mlq::transcription {

namespace {

constexpr int kOnsetNeighbour = 2;
constexpr int kOffsetNeighbour = 4;
constexpr int kPedalOffsetWait = 10;  // frames after a pedal frame drop to wait for an offset peak

// Python's truthiness of the reference's frame indices: None and 0 both mean "not yet". A 0 never
// arises (peaks are found from frame 2 on, pedal onsets from frame 1 on).
constexpr int kNone = 0;

// Bounds of one detected event in frames, with sub-frame shifts.
struct Detected {
  int begin;
  int end;
  float begin_shift;
  float end_shift;
  float velocity;  // notes only
};

bool is_monotonic_neighbour(const std::vector<float>& x, int n, int neighbour) {
  for (int i = 0; i < neighbour; ++i) {
    if (x[n - i] < x[n - i - 1] || x[n + i] < x[n + i + 1]) return false;
  }
  return true;
}

std::vector<Detected> detect_notes(const std::vector<float>& frame, const Peaks& onsets,
                                   const Peaks& offsets, const std::vector<float>& velocity,
                                   const PostprocessOptions& options) {
  std::vector<Detected> out;
  const int frames = static_cast<int>(frame.size());
  int begin = kNone;
  int frame_disappear = kNone;
  int offset_occur = kNone;
  auto emit = [&](int end, float end_shift) {
    out.push_back({begin, end, onsets.shift[begin], end_shift, velocity[begin]});
  };
  for (int i = 0; i < frames; ++i) {
    if (onsets.peak[i]) {
      if (begin != kNone) {
        emit(std::max(i - 1, 0), 0.0f);
        frame_disappear = offset_occur = kNone;
      }
      begin = i;
    }
    if (begin == kNone || i <= begin) continue;
    if (frame[i] <= options.frame_threshold && frame_disappear == kNone) frame_disappear = i;
    if (offsets.peak[i] && offset_occur == kNone) offset_occur = i;
    if (frame_disappear != kNone) {
      const bool at_offset =
          offset_occur != kNone && offset_occur - begin > frame_disappear - offset_occur;
      const int end = at_offset ? offset_occur : frame_disappear;
      emit(end, offsets.shift[end]);
      begin = frame_disappear = offset_occur = kNone;
    }
    if (begin != kNone && (i - begin >= options.max_note_frames || i == frames - 1)) {
      emit(i, offsets.shift[i]);
      begin = frame_disappear = offset_occur = kNone;
    }
  }
  return out;
}

std::vector<Detected> detect_pedals(const std::vector<float>& frame, const Peaks& offsets,
                                    const PostprocessOptions& options) {
  std::vector<Detected> out;
  const int frames = static_cast<int>(frame.size());
  int begin = kNone;
  int frame_disappear = kNone;
  int offset_occur = kNone;
  for (int i = 1; i < frames; ++i) {
    if (frame[i] >= options.pedal_frame_threshold && frame[i] > frame[i - 1] && begin == kNone) {
      begin = i;
    }
    if (begin == kNone || i <= begin) continue;
    if (frame[i] <= options.pedal_frame_threshold && frame_disappear == kNone) frame_disappear = i;
    if (offsets.peak[i] && offset_occur == kNone) offset_occur = i;
    if (offset_occur != kNone) {
      out.push_back({begin, offset_occur, 0.0f, offsets.shift[offset_occur], 0.0f});
      begin = frame_disappear = offset_occur = kNone;
    }
    if (frame_disappear != kNone && i - frame_disappear >= kPedalOffsetWait) {
      out.push_back({begin, frame_disappear, 0.0f, offsets.shift[frame_disappear], 0.0f});
      begin = frame_disappear = offset_occur = kNone;
    }
  }
  return out;
}

void check_size(const std::vector<float>& roll, std::size_t size, const char* name) {
  if (roll.size() != size) {
    throw std::invalid_argument(std::string("postprocess: ") + name + " has " +
                                std::to_string(roll.size()) + " values, expected " +
                                std::to_string(size));
  }
}

}  // namespace

Peaks find_peaks(const std::vector<float>& x, double threshold, int neighbour) {
  const int frames = static_cast<int>(x.size());
  Peaks out{std::vector<char>(frames, 0), std::vector<float>(frames, 0.0f)};
  for (int n = neighbour; n < frames - neighbour; ++n) {
    if (!(x[n] > threshold && is_monotonic_neighbour(x, n, neighbour))) continue;
    out.peak[n] = 1;
    // Section III-D of the paper: for a symmetric triangle through the three points, the apex
    // lies this many frames from n. Float arithmetic as in the reference (float32 NumPy scalars).
    const float rise = x[n + 1] - x[n - 1];
    const float fall = x[n - 1] > x[n + 1] ? x[n] - x[n + 1] : x[n] - x[n - 1];
    out.shift[n] = fall == 0.0f ? 0.0f : rise / fall / 2.0f;  // 0: a plateau (reference: NaN)
  }
  return out;
}

Transcription postprocess(const ModelOutputs& outputs, const PostprocessOptions& options) {
  const int frames = outputs.frames;
  const int classes = outputs.classes;
  const std::size_t cells = static_cast<std::size_t>(frames) * classes;
  check_size(outputs.reg_onset, cells, "reg_onset");
  check_size(outputs.reg_offset, cells, "reg_offset");
  check_size(outputs.frame, cells, "frame");
  check_size(outputs.velocity, cells, "velocity");
  const bool pedal = !outputs.pedal_frame.empty() || !outputs.reg_pedal_offset.empty();
  if (pedal) {
    check_size(outputs.pedal_frame, frames, "pedal_frame");
    check_size(outputs.reg_pedal_offset, frames, "reg_pedal_offset");
  }
  const double fps = options.frames_per_second;

  Transcription out;
  std::vector<float> reg_onset(frames), reg_offset(frames), frame(frames), velocity(frames);
  for (int k = 0; k < classes; ++k) {
    for (int t = 0; t < frames; ++t) {
      const std::size_t at = static_cast<std::size_t>(t) * classes + k;
      reg_onset[t] = outputs.reg_onset[at];
      reg_offset[t] = outputs.reg_offset[at];
      frame[t] = outputs.frame[at];
      velocity[t] = outputs.velocity[at];
    }
    const Peaks onsets = find_peaks(reg_onset, options.onset_threshold, kOnsetNeighbour);
    const Peaks offsets = find_peaks(reg_offset, options.offset_threshold, kOffsetNeighbour);
    for (const Detected& d : detect_notes(frame, onsets, offsets, velocity, options)) {
      Note note;
      note.onset = (d.begin + static_cast<double>(d.begin_shift)) / fps;
      note.offset = std::max((d.end + static_cast<double>(d.end_shift)) / fps, note.onset);
      note.pitch = k + options.begin_note;
      // float x int is a double in NumPy 1.x; int() truncates.
      const double scaled = static_cast<double>(d.velocity) * options.velocity_scale;
      note.velocity = static_cast<int>(std::clamp(scaled, 1.0, 127.0));
      if (note.offset - note.onset >= options.min_note_seconds) out.notes.push_back(note);
    }
  }
  std::sort(out.notes.begin(), out.notes.end(), [](const Note& a, const Note& b) {
    return std::tie(a.onset, a.pitch, a.offset) < std::tie(b.onset, b.pitch, b.offset);
  });

  if (pedal) {
    const Peaks offsets =
        find_peaks(outputs.reg_pedal_offset, options.pedal_offset_threshold, kOffsetNeighbour);
    for (const Detected& d : detect_pedals(outputs.pedal_frame, offsets, options)) {
      out.pedals.push_back({d.begin / fps, (d.end + static_cast<double>(d.end_shift)) / fps});
    }
    if (options.hold_notes_by_pedal) out.notes = extend_offsets_by_pedal(out.notes, out.pedals);
  }
  return out;
}

}  // namespace mlq::transcription
