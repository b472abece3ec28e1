#pragma once
// Fixed-length segments over one split of a preprocessed data set (index.csv from `runner
// preprocess`). Each file is cut at 0, hop, 2*hop, ...; the last segment is zero-padded. Audio
// stays memory-mapped, so memory is bounded however large the data set.
#include <filesystem>
#include <functional>
#include <vector>

#include "mlq/audio/npy.hpp"
#include "mlq/audio/preprocess.hpp"
#include "mlq/train/task.hpp"

namespace mlq {

struct SegmentOptions {
  double segment_seconds = 10;
  double hop_seconds = 10;
};

// Builds a segment's targets from its file's index entry and time span (seconds); the tensors
// are added to the example next to "audio".
using SegmentLabelHook =
    std::function<TensorMap(const IndexEntry& entry, double start_seconds, double end_seconds)>;

class SegmentDataset : public Dataset {
 public:
  SegmentDataset(const std::filesystem::path& index_csv, const std::string& split,
                 SegmentOptions options, SegmentLabelHook label_hook = {});
  int64_t size() const override { return static_cast<int64_t>(segments_.size()); }
  // {"audio": float32 [segment samples]} plus what the label hook adds.
  TensorMap get(int64_t index) const override;
  double sample_rate() const { return sample_rate_; }

 private:
  struct Segment {
    size_t file;
    int64_t start;  // in samples
  };
  std::vector<IndexEntry> entries_;
  std::vector<NpyFile> audio_;
  std::vector<Segment> segments_;
  double sample_rate_ = 0;
  int64_t segment_samples_ = 0;
  SegmentLabelHook label_hook_;
};

}  // namespace mlq
