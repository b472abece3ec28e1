#include "data/targets.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace mlq::transcription {

int round_half_even(double x) {
  double whole = std::floor(x);
  const double fraction = x - whole;  // exact for doubles
  if (fraction > 0.5 || (fraction == 0.5 && std::fmod(whole, 2.0) != 0)) whole += 1;
  return static_cast<int>(whole);
}

int segment_frames(double segment_seconds, int frames_per_second) {
  return round_half_even(segment_seconds * frames_per_second) + 1;
}

std::vector<double> regression_target(const std::vector<double>& shifts, int frames_per_second) {
  const double step = 1.0 / frames_per_second;
  const int n = static_cast<int>(shifts.size());
  std::vector<int> events;
  for (int t = 0; t < n; ++t) {
    if (shifts[t] < 0.5) events.push_back(t);
  }
  // Signed distance in seconds from each frame to the event it belongs to: frames up to the middle
  // between two events belong to the earlier one, the rest to the later one.
  std::vector<double> distance(n, 1.0);
  if (!events.empty()) {
    const int first = events.front();
    for (int t = 0; t < first; ++t) distance[t] = step * (t - first) - shifts[first];
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
      const int a = events[i];
      const int b = events[i + 1];
      const int middle = (a + b) / 2;
      for (int t = a; t < middle; ++t) distance[t] = step * (t - a) - shifts[a];
      // The reference's quirk, kept: the rising side of event b uses event a's shift, so the
      // ramp before every event but the first is offset by the previous event's shift. (For
      // b == a + 1 this even overwrites a's own peak.)
      for (int t = middle; t < b; ++t) distance[t] = step * (t - b) - shifts[a];
    }
    const int last = events.back();
    for (int t = last; t < n; ++t) distance[t] = step * (t - last) - shifts[last];
  }
  std::vector<double> target(n);
  for (int t = 0; t < n; ++t) target[t] = 1.0 - std::min(std::abs(distance[t]), 0.05) * 20;
  return target;
}

namespace {

// The frames an event covers, rounded as the reference rounds them. Indices beyond the last frame
// (possible only through float error when seconds * fps is not whole) are pulled back; the
// reference would fail there.
struct Span {
  int begin;  // may be negative: the event started before the segment
  int end;    // < 0: the event ended before the segment
};

Span span_of(double onset, double offset, double start, int fps, int frames) {
  return {std::min(round_half_even((onset - start) * fps), frames - 1),
          std::min(round_half_even((offset - start) * fps), frames - 1)};
}

// Regression targets of every column of an event-shift roll (1 where no event), in place.
void regress_columns(std::vector<double>& shifts, std::vector<float>& out, int frames, int classes,
                     int fps) {
  std::vector<double> column(frames);
  for (int k = 0; k < classes; ++k) {
    for (int t = 0; t < frames; ++t) column[t] = shifts[static_cast<std::size_t>(t) * classes + k];
    const std::vector<double> target = regression_target(column, fps);
    for (int t = 0; t < frames; ++t) {
      out[static_cast<std::size_t>(t) * classes + k] = static_cast<float>(target[t]);
    }
  }
}

}  // namespace

SegmentTargets make_targets(const std::vector<Note>& notes, const std::vector<Pedal>& pedals,
                            double segment_start, double segment_seconds,
                            const TargetOptions& options) {
  const int fps = options.frames_per_second;
  const int frames = segment_frames(segment_seconds, fps);
  const int classes = options.classes_num;
  const std::size_t cells = static_cast<std::size_t>(frames) * classes;
  // Computed as the reference computes it, so that a cut offset lands exactly where it does.
  const double segment_end = segment_start + segment_seconds;

  SegmentTargets out;
  out.frames = frames;
  out.classes = classes;
  out.onset_roll.assign(cells, 0);
  out.offset_roll.assign(cells, 0);
  out.reg_onset_roll.assign(cells, 0);
  out.reg_offset_roll.assign(cells, 0);
  out.frame_roll.assign(cells, 0);
  out.velocity_roll.assign(cells, 0);
  out.mask_roll.assign(cells, 1);
  std::vector<double> onset_shift(cells, 1.0);
  std::vector<double> offset_shift(cells, 1.0);
  auto at = [classes](int t, int k) { return static_cast<std::size_t>(t) * classes + k; };

  for (const Note& note : notes) {
    if (note.onset > segment_end) continue;
    const bool cut = note.offset > segment_end;
    const double offset = cut ? segment_end : note.offset;
    // The reference clips keys outside the piano onto its lowest or highest key.
    const int key = std::clamp(note.pitch - options.begin_note, 0, classes - 1);
    const Span span = span_of(note.onset, offset, segment_start, fps, frames);
    if (span.end < 0) continue;
    for (int t = std::max(span.begin, 0); t <= span.end; ++t) {
      out.frame_roll[at(t, key)] = 1;
      out.velocity_roll[at(t, key)] = static_cast<float>(note.velocity);
    }
    out.offset_roll[at(span.end, key)] = 1;
    offset_shift[at(span.end, key)] =
        (offset - segment_start) - static_cast<double>(span.end) / fps;
    if (span.begin >= 0) {
      out.onset_roll[at(span.begin, key)] = 1;
      onset_shift[at(span.begin, key)] =
          (note.onset - segment_start) - static_cast<double>(span.begin) / fps;
    } else {
      // Started before the segment (by at least half a frame): its onset is not in the audio.
      for (int t = 0; t <= span.end; ++t) out.mask_roll[at(t, key)] = 0;
    }
    // Still sounding at the end: its true offset is not in the audio. (When it also started
    // before the segment the whole column is already masked.)
    if (cut) {
      for (int t = std::max(span.begin, 0); t < frames; ++t) out.mask_roll[at(t, key)] = 0;
    }
  }
  regress_columns(onset_shift, out.reg_onset_roll, frames, classes, fps);
  regress_columns(offset_shift, out.reg_offset_roll, frames, classes, fps);

  out.pedal_onset_roll.assign(frames, 0);
  out.pedal_offset_roll.assign(frames, 0);
  out.pedal_frame_roll.assign(frames, 0);
  std::vector<double> pedal_onset_shift(frames, 1.0);
  std::vector<double> pedal_offset_shift(frames, 1.0);
  for (const Pedal& pedal : pedals) {
    if (pedal.onset > segment_end) continue;
    const double offset = std::min(pedal.offset, segment_end);
    const Span span = span_of(pedal.onset, offset, segment_start, fps, frames);
    if (span.end < 0) continue;
    for (int t = std::max(span.begin, 0); t <= span.end; ++t) out.pedal_frame_roll[t] = 1;
    out.pedal_offset_roll[span.end] = 1;
    pedal_offset_shift[span.end] = (offset - segment_start) - static_cast<double>(span.end) / fps;
    if (span.begin >= 0) {
      out.pedal_onset_roll[span.begin] = 1;
      pedal_onset_shift[span.begin] =
          (pedal.onset - segment_start) - static_cast<double>(span.begin) / fps;
    }
  }
  out.reg_pedal_onset_roll.assign(frames, 0);
  out.reg_pedal_offset_roll.assign(frames, 0);
  regress_columns(pedal_onset_shift, out.reg_pedal_onset_roll, frames, 1, fps);
  regress_columns(pedal_offset_shift, out.reg_pedal_offset_roll, frames, 1, fps);
  return out;
}

}  // namespace mlq::transcription
