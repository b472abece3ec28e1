#pragma once
// What an evaluation produces, without LibTorch: the split, scalar results and media. The
// loggers and the report read these; task.hpp builds on them.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlq {

// Scalar results by name (metrics, logs).
using Scalars = std::map<std::string, double>;

enum class Split { Train, Validation, Test };
const char* split_name(Split split);  // "train", "validation", "test"

// Images and audio clips a task shows for an evaluation (TensorBoard's image and audio
// dashboards), encoded with mlq/png.hpp and mlq/wav.hpp. The trainer logs them under
// val_<tag> (test_<tag>) at the current step; test media are also written to the run's examples/
// folder as <tag>.png and <tag>.wav, with `files`, and become artifacts `runner report` shows.
struct EvaluationMedia {
  struct Image {
    std::string tag;
    std::string png;
    int width = 0;
    int height = 0;
  };
  struct Audio {
    std::string tag;
    std::string wav;  // mono
    int sample_rate = 0;
    int64_t frames = 0;
  };
  struct File {
    std::string name;  // a file name, e.g. "excerpt-1-prediction.mid"
    std::string bytes;
  };
  std::vector<Image> images;
  std::vector<Audio> audio;
  std::vector<File> files;
};

}  // namespace mlq
