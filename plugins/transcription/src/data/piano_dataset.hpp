#pragma once
// Segments of a preprocessed piano data set (index.csv with .npy audio and .midi labels) with
// the reference's training targets, made in the loader threads from each file's notes.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "data/notes.hpp"
#include "data/targets.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

// [data]
struct PianoDataOptions {
  std::filesystem::path root;  // the preprocessed data set (index.csv)
  double segment_seconds = 10;
  double hop_seconds = 1;            // training
  double eval_segment_seconds = 10;  // validation and test segments; default: segment_seconds
  // Validation and test segments overlap by twice this, and each piece is stitched from their
  // frames this far from their edges, as `runner predict` does (0: segments end to end).
  double eval_context_seconds = 0;
  int frames_per_second = 100;
  // Preprocessed test sets rendered with timbres the model never trains on: their pieces join the
  // test split and are scored apart (test_unseen_*).
  std::vector<std::filesystem::path> unseen_roots;
  static PianoDataOptions from(const Config& data_config);
  double segment_seconds_of(Split split) const {
    return split == Split::Train ? segment_seconds : eval_segment_seconds;
  }
};

// Each example: "audio" [samples], the target rolls [frames, 88] (reg_onset_roll,
// reg_offset_roll, frame_roll, velocity_roll, onset_roll, mask_roll), and "piece" and
// "start_frame" (int64 scalars) that place it in its piece. The test split also holds the pieces
// of options.unseen_roots.
class PianoDataset : public Dataset {
 public:
  PianoDataset(const PianoDataOptions& options, Split split);
  int64_t size() const override { return size_; }
  TensorMap get(int64_t index) const override;
  // The piece's notes (pedal-extended, as the targets) and its id.
  const std::vector<Note>& notes(int64_t piece) const { return pieces_.at(piece).notes; }
  const std::string& piece_id(int64_t piece) const { return pieces_.at(piece).id; }
  // Whether the piece comes from one of options.unseen_roots.
  bool unseen(int64_t piece) const { return pieces_.at(piece).root > 0; }
  int frames_per_second() const { return options_.frames_per_second; }
  // The index of the first example of options.root and of each unseen root (empty ones left out).
  std::vector<int64_t> first_example_of_each_root() const;

 private:
  struct Piece {
    std::string id;
    size_t root;  // 0: options.root, i: options.unseen_roots[i - 1]
    std::vector<Note> notes;
    std::vector<Pedal> pedals;
  };
  void add_root(const std::filesystem::path& root, Split split);
  TensorMap targets(int64_t piece, double start, double end) const;

  PianoDataOptions options_;
  std::vector<Piece> pieces_;
  std::vector<std::unique_ptr<SegmentDataset>> roots_;  // segments of each root's split
  int64_t size_ = 0;
};

}  // namespace mlq::transcription
