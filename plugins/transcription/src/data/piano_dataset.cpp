#include "data/piano_dataset.hpp"

#include <fmt/format.h>

#include "data/midi_file.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

PianoDataOptions PianoDataOptions::from(const Config& c) {
  PianoDataOptions o;
  o.root = c.get_string("root");
  const Range seconds = Range::above(0);
  o.segment_seconds = c.get_double("segment_seconds", o.segment_seconds, seconds);
  o.hop_seconds = c.get_double("hop_seconds", o.hop_seconds, seconds);
  o.eval_segment_seconds = c.get_double("eval_segment_seconds", o.segment_seconds, seconds);
  o.eval_context_seconds =
      c.get_double("eval_context_seconds", 0, Range::between(0, o.eval_segment_seconds / 4));
  if (c.has("unseen_roots"))
    for (const std::string& root : c.get_strings("unseen_roots")) o.unseen_roots.push_back(root);
  o.frames_per_second = static_cast<int>(
      c.get_int("frames_per_second", o.frames_per_second, Range::between(1, 10000)));
  return o;
}

PianoDataset::PianoDataset(const PianoDataOptions& options, Split split) : options_(options) {
  add_root(options.root, split);
  if (split == Split::Test)
    for (const auto& root : options.unseen_roots) add_root(root, split);
}

void PianoDataset::add_root(const std::filesystem::path& root, Split split) {
  const std::filesystem::path index = root / "index.csv";
  std::map<std::string, int64_t> piece_of;  // by index id
  for (const IndexEntry& entry : read_index(index)) {
    if (entry.split != split_name(split)) continue;
    if (entry.label.empty())
      throw UserError(fmt::format("{}: '{}' has no MIDI label (preprocess with label_ext)",
                                  index.string(), entry.id));
    const Performance performance = read_midi(root / entry.label);
    piece_of[entry.id] = static_cast<int64_t>(pieces_.size());
    pieces_.push_back({entry.id, roots_.size(),
                       extend_offsets_by_pedal(performance.notes, performance.pedals),
                       performance.pedals});
  }
  const double length = options_.segment_seconds_of(split);
  const double hop =
      split == Split::Train ? options_.hop_seconds : length - 2 * options_.eval_context_seconds;
  roots_.push_back(std::make_unique<SegmentDataset>(
      index, split_name(split), SegmentOptions{length, hop},
      [this, piece_of](const IndexEntry& entry, double start, double end) {
        return targets(piece_of.at(entry.id), start, end);
      }));
  size_ += roots_.back()->size();
}

TensorMap PianoDataset::get(int64_t index) const {
  for (const auto& root : roots_) {
    if (index < root->size()) return root->get(index);
    index -= root->size();
  }
  throw std::out_of_range(fmt::format("piano data set: no example {}", index));
}

std::vector<int64_t> PianoDataset::first_example_of_each_root() const {
  std::vector<int64_t> firsts;
  int64_t index = 0;
  for (const auto& root : roots_) {
    if (root->size() > 0) firsts.push_back(index);
    index += root->size();
  }
  return firsts;
}

TensorMap PianoDataset::targets(int64_t piece, double start, double end) const {
  TargetOptions options;
  options.frames_per_second = options_.frames_per_second;
  const SegmentTargets t =
      make_targets(pieces_[piece].notes, pieces_[piece].pedals, start, end - start, options);
  auto roll = [&](const std::vector<float>& values) {
    return torch::from_blob(const_cast<float*>(values.data()), {t.frames, t.classes}).clone();
  };
  auto curve = [&](const std::vector<float>& values) {
    return torch::from_blob(const_cast<float*>(values.data()), {t.frames}).clone();
  };
  return {{"reg_onset_roll", roll(t.reg_onset_roll)},
          {"reg_offset_roll", roll(t.reg_offset_roll)},
          {"frame_roll", roll(t.frame_roll)},
          {"velocity_roll", roll(t.velocity_roll)},
          {"onset_roll", roll(t.onset_roll)},
          {"mask_roll", roll(t.mask_roll)},
          {"pedal_frame_roll", curve(t.pedal_frame_roll)},
          {"reg_pedal_offset_roll", curve(t.reg_pedal_offset_roll)},
          {"piece", torch::tensor(piece, torch::kInt64)},
          {"start_frame",
           torch::tensor(static_cast<int64_t>(std::llround(start * options_.frames_per_second)),
                         torch::kInt64)}};
}

}  // namespace mlq::transcription
