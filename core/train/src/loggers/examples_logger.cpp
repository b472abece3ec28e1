// Test media into <run dir>/examples/ (<tag>.png, <tag>.wav and the task's files), which become
// the run's artifacts when it finishes and `runner report` shows.
#include "loggers/logger.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/files.hpp"

namespace mlq {
namespace {

class ExamplesLogger : public Logger {
 public:
  explicit ExamplesLogger(Run& run) : folder_(run.dir() / "examples") {}
  void write(const std::vector<MetricPoint>&) override {}
  bool wants_media(Split split) const override { return split == Split::Test; }
  void log_media(const std::string&, const EvaluationMedia& media, int64_t, Split) override {
    if (media.images.empty() && media.audio.empty() && media.files.empty()) return;
    std::filesystem::create_directories(folder_);
    for (const auto& image : media.images)
      write_file_atomic(folder_ / (image.tag + ".png"), image.png);
    for (const auto& clip : media.audio) write_file_atomic(folder_ / (clip.tag + ".wav"), clip.wav);
    for (const auto& file : media.files) write_file_atomic(folder_ / file.name, file.bytes);
  }

 private:
  std::filesystem::path folder_;
};

}  // namespace

std::unique_ptr<Logger> make_examples_logger(Run& run) {
  return std::make_unique<ExamplesLogger>(run);
}

}  // namespace mlq
