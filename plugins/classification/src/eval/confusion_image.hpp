#pragma once
// A confusion matrix as a picture (TensorBoard images, the run's examples, `runner report`):
// rows are the true classes, labelled "<index> <name>", columns the predicted ones, labelled by
// index; each cell shows its count, shaded by the share of its row (green on the diagonal, red
// off it).
#include <cstdint>
#include <string>
#include <vector>

namespace mlq::classification {

struct Picture {
  std::vector<uint8_t> rgb;  // row-major
  int width = 0, height = 0;
};

Picture confusion_picture(const std::vector<std::vector<int64_t>>& confusion,
                          const std::vector<std::string>& class_names);

// The matrix as CSV: a header "true\predicted,<names...>", then a row per true class.
std::string confusion_csv(const std::vector<std::vector<int64_t>>& confusion,
                          const std::vector<std::string>& class_names);

}  // namespace mlq::classification
