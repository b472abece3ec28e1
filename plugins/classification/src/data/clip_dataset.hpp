#pragma once
// Labelled clips of a preprocessed data set (index.csv from `runner preprocess`), cut into
// windows: overlapping ones for training, back to back for evaluation, where a clip's windows
// are averaged into one prediction.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mlq/plugin.hpp"

namespace mlq::classification {

// [data]
struct ClipDataOptions {
  std::filesystem::path root;  // the preprocessed data set (index.csv)
  double clip_seconds = 2;     // window length
  double hop_seconds = 1;      // between training windows (default: clip_seconds / 2)
  // Cross-validation over the index's `fold` column: fold k is the test split, validation_fold
  // (default: the next fold, cyclically) the validation split, the other folds train. 0: the
  // index's own splits.
  int64_t fold = 0;
  int64_t validation_fold = 0;
  // Preprocessed test sets the model never trains on (an unseen soundfont): their clips join the
  // test split and are scored apart (test_unseen_*).
  std::vector<std::filesystem::path> unseen_roots;
  static ClipDataOptions from(const Config& data_config);
};

// A clip's class: the index's `class` column, else the name of the folder the audio came from
// (the folder-per-class layout, root/<label>/<file>).
std::string clip_label(const IndexEntry& entry);

// The sorted class names of an index (every split).
std::vector<std::string> index_classes(const std::filesystem::path& index_csv);

// Each example: "audio" [window samples], "label" (int64), "target" (float one-hot [classes]),
// "clip" (int64: the clip's number in this data set), "unseen" (bool: from an unseen root).
class ClipDataset : public Dataset {
 public:
  ClipDataset(const ClipDataOptions& options, Split split, std::vector<std::string> classes);
  int64_t size() const override { return size_; }
  TensorMap get(int64_t index) const override;
  int64_t clips() const { return static_cast<int64_t>(clips_.size()); }
  int64_t label(int64_t clip) const { return clips_.at(clip).label; }
  bool unseen(int64_t clip) const { return clips_.at(clip).root > 0; }
  // The clip's preprocessed audio file.
  const std::filesystem::path& audio(int64_t clip) const { return clips_.at(clip).audio; }
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  struct Clip {
    int64_t label;
    size_t root;  // 0: options.root, i: options.unseen_roots[i - 1]
    std::filesystem::path audio;
  };
  void add_root(const std::filesystem::path& root, Split split);

  ClipDataOptions options_;
  std::vector<std::string> classes_;
  std::vector<Clip> clips_;
  std::vector<std::unique_ptr<SegmentDataset>> roots_;
  int64_t size_ = 0;
};

}  // namespace mlq::classification
