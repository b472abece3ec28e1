#pragma once
// TensorBoard event files without TensorFlow or protobuf: TFRecord framing (length, masked
// CRC32C of the length, data, masked CRC32C of the data) around tensorflow.Event messages
// encoded by hand. TensorBoard reads every events.out.tfevents.* file of a run's directory.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace mlq {

class Config;

// A hyperparameter value as the hparams plugin shows it (google.protobuf.Value).
using HParamValue = std::variant<double, std::string, bool>;
using HParams = std::map<std::string, HParamValue>;

// The config's leaves by dotted key: numbers, strings and booleans as themselves, anything else
// (arrays, inline tables) as its TOML text.
HParams hparams_from_config(const Config& config);

// tensorboard.hparams.Status.
enum class SessionStatus { Unknown = 0, Success = 1, Failure = 2, Running = 3 };

// CRC-32C (Castagnoli), and the masked form TFRecord stores.
uint32_t crc32c(const void* data, size_t size);
uint32_t masked_crc32c(const void* data, size_t size);

class EventFileWriter {
 public:
  // Creates `dir` if needed and in it events.out.tfevents.<unix seconds>.<host> (".N" added when
  // that name is taken), whose first event holds file_version "brain.Event:2". Every add_* writes
  // one event and flushes it, so a crash loses nothing already added; a failure to create or
  // write the file is a UserError naming it.
  explicit EventFileWriter(const std::filesystem::path& dir);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  const std::filesystem::path& path() const { return path_; }

  void add_scalar(const std::string& tag, double value, int64_t step);
  // An encoded PNG (mlq/png.hpp) of width x height RGB pixels.
  void add_image(const std::string& tag, const std::string& png, int width, int height,
                 int64_t step);
  // An encoded mono WAV file (mlq/wav.hpp) of `frames` samples.
  void add_audio(const std::string& tag, const std::string& wav, int sample_rate, int64_t frames,
                 int64_t step);

  // The hparams plugin. add_hparams: this run's values (`_hparams_/session_start_info`), with
  // where its checkpoints go. add_hparams_experiment: the hyperparameters and metric tags of a
  // whole experiment (`_hparams_/experiment`); without one in any run, TensorBoard builds it from
  // all runs' session_start_info and scalar tags. add_session_end: `_hparams_/session_end_info`.
  void add_hparams(const HParams& hparams, const std::string& model_uri = "",
                   double start_time = 0);
  void add_hparams_experiment(const HParams& hparams, const std::vector<std::string>& metric_tags);
  void add_session_end(SessionStatus status, double end_time = 0);

  // A SessionLog START at `step`: TensorBoard drops whatever this run's files hold at `step` and
  // after (a resumed run recomputes those steps).
  void add_session_start(int64_t step);

 private:
  void write_event(const std::string& event);

  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace mlq
