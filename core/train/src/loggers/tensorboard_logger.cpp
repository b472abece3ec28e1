// TensorBoard: scalars, validation and test media, and the hparams dashboard's session (this
// run's config at the start, its end status after testing), in an event file under <run dir>/tb/
// (a new file per process, so a resumed run adds one).
#include "loggers/logger.hpp"
#include "loggers/tensorboard_file.hpp"
#include "mlq/tracking/run.hpp"

namespace mlq {
namespace {

class TensorBoardLogger : public Logger {
 public:
  TensorBoardLogger(Run& run, const Config& config) : events_(run.dir() / "tb") {
    events_.add_hparams(hparams_from_config(config), run.checkpoints_dir().string());
  }
  void write(const std::vector<MetricPoint>& points) override {
    for (const auto& point : points) events_.add_scalar(point.key, point.value, point.step);
  }
  bool wants_media(Split) const override { return true; }
  void log_media(const std::string& prefix, const EvaluationMedia& media, int64_t step,
                 Split) override {
    for (const auto& image : media.images)
      events_.add_image(prefix + image.tag, image.png, image.width, image.height, step);
    for (const auto& clip : media.audio)
      events_.add_audio(prefix + clip.tag, clip.wav, clip.sample_rate, clip.frames, step);
  }
  void truncate_after(int64_t step) override { events_.add_session_start(step + 1); }
  void run_end(bool success) override {
    events_.add_session_end(success ? SessionStatus::Success : SessionStatus::Failure);
  }

 private:
  EventFileWriter events_;
};

}  // namespace

std::unique_ptr<Logger> make_tensorboard_logger(Run& run, const Config& config) {
  return std::make_unique<TensorBoardLogger>(run, config);
}

}  // namespace mlq
