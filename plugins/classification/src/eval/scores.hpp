#pragma once
// Classification scores of whole clips from their class probabilities: accuracy, top-k accuracy,
// macro-F1, per-class precision/recall/F1 and the confusion matrix. No LibTorch.
#include <cstdint>
#include <string>
#include <vector>

namespace mlq::classification {

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;  // clips of the class
};

struct Scores {
  int64_t clips = 0;
  double accuracy = 0;
  double top_k_accuracy = 0;
  // The mean F1 of the classes that have clips or predictions (scikit-learn's average="macro").
  double macro_f1 = 0;
  std::vector<ClassScores> classes;
  // confusion[true][predicted]: clips of class `true` predicted as `predicted`.
  std::vector<std::vector<int64_t>> confusion;
};

// `probabilities`: clips x classes, row-major; `labels`: each clip's class. Ties in top-k go to
// the lower class index.
Scores score_clips(const std::vector<float>& probabilities, const std::vector<int64_t>& labels,
                   int64_t classes, int64_t top_k);

// The k most probable classes of one clip's probabilities, best first.
std::vector<int64_t> top_classes(const float* probabilities, int64_t classes, int64_t k);

}  // namespace mlq::classification
