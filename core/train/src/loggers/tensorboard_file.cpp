#include "loggers/tensorboard_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "loggers/protobuf_encoder.hpp"
#include "loggers/reflected_crc.hpp"
#include "mlq/config/tree.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/util/byte_order.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

// Field numbers of tensorboard/compat/proto/{event,summary,tensor,tensor_shape}.proto and of the
// hparams plugin's plugin_data.proto and api.proto (google.protobuf.Value from struct.proto).
namespace event {
constexpr int kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5, kSessionLog = 7;
}
namespace session_log {
constexpr int kStatus = 1;
constexpr uint64_t kStart = 1;
}  // namespace session_log
namespace summary {
constexpr int kValue = 1;
}
namespace summary_value {
constexpr int kTag = 1, kSimpleValue = 2, kImage = 4, kAudio = 6, kTensor = 8, kMetadata = 9;
}
namespace image {
constexpr int kHeight = 1, kWidth = 2, kColorspace = 3, kEncoded = 4;
constexpr uint64_t kRgb = 3;
}  // namespace image
namespace audio {
constexpr int kSampleRate = 1, kChannels = 2, kFrames = 3, kEncoded = 4, kContentType = 5;
}
namespace metadata {
constexpr int kPluginData = 1, kDataClass = 4;
constexpr int kPluginName = 1, kContent = 2;  // PluginData
constexpr uint64_t kDataClassTensor = 2;
}  // namespace metadata
namespace tensor {
constexpr int kDtype = 1, kShape = 2, kShapeDim = 2;
constexpr uint64_t kFloat = 1;
}  // namespace tensor
namespace hparams {
constexpr int kExperiment = 2, kSessionStart = 3, kSessionEnd = 4;  // HParamsPluginData
constexpr int kExperimentTime = 3, kHParamInfos = 4, kMetricInfos = 5;
constexpr int kInfoName = 1, kInfoType = 4, kInfoDomainDiscrete = 5;
constexpr uint64_t kTypeString = 1, kTypeBool = 2, kTypeFloat64 = 3;
constexpr int kMetricName = 1, kMetricTag = 2;  // MetricName.group (1) stays empty
constexpr int kStartHParams = 1, kStartModelUri = 2, kStartTime = 5;
constexpr int kEndStatus = 1, kEndTime = 2;
constexpr int kMapKey = 1, kMapValue = 2;
constexpr int kListValues = 1;  // google.protobuf.ListValue
}  // namespace hparams
namespace proto_value {  // google.protobuf.Value
constexpr int kNumber = 2, kString = 3, kBool = 4;
}

std::string record(const std::string& data) {
  std::string out;
  out.reserve(data.size() + 16);
  append_le64(out, data.size());
  append_le32(out, masked_crc32c(out.data(), 8));
  out += data;
  append_le32(out, masked_crc32c(data.data(), data.size()));
  return out;
}

ProtoMessage event_at(int64_t step) {
  ProtoMessage e;
  e.double_field(event::kWallTime, now_seconds());
  if (step != 0) e.varint(event::kStep, static_cast<uint64_t>(step));  // proto3: 0 is unset
  return e;
}

std::string summary_event(const ProtoMessage& value, int64_t step) {
  return event_at(step)
      .message(event::kSummary, ProtoMessage().message(summary::kValue, value))
      .data();
}

ProtoMessage google_value(const HParamValue& v) {
  ProtoMessage m;
  if (const auto* number = std::get_if<double>(&v))
    m.double_field(proto_value::kNumber, *number);
  else if (const auto* text = std::get_if<std::string>(&v))
    m.bytes(proto_value::kString, *text);
  else
    m.varint(proto_value::kBool, std::get<bool>(v) ? 1 : 0);
  return m;
}

// A Summary.Value of the hparams plugin: the data sits in the metadata's plugin content; the
// tensor is the empty float vector TensorBoard itself puts there.
std::string hparams_event(const char* tag, int data_field, const ProtoMessage& data) {
  ProtoMessage plugin;
  plugin.bytes(metadata::kPluginName, "hparams")
      .bytes(metadata::kContent, ProtoMessage().message(data_field, data).data());
  ProtoMessage meta;
  meta.message(metadata::kPluginData, plugin)
      .varint(metadata::kDataClass, metadata::kDataClassTensor);
  ProtoMessage null_tensor;
  null_tensor.varint(tensor::kDtype, tensor::kFloat)
      .message(tensor::kShape, ProtoMessage().message(tensor::kShapeDim, ProtoMessage()));
  ProtoMessage value;
  value.bytes(summary_value::kTag, tag)
      .message(summary_value::kTensor, null_tensor)
      .message(summary_value::kMetadata, meta);
  return summary_event(value, 0);
}

void collect_hparams(const toml::table& table, const std::string& prefix, HParams& out) {
  for (auto&& [key, node] : table) {
    const std::string name =
        prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const auto* sub = node.as_table())
      collect_hparams(*sub, name, out);
    else if (const auto* integer = node.as_integer())
      out[name] = static_cast<double>(integer->get());
    else if (const auto* real = node.as_floating_point())
      out[name] = real->get();
    else if (const auto* flag = node.as_boolean())
      out[name] = flag->get();
    else if (const auto* text = node.as_string())
      out[name] = text->get();
    else
      out[name] = toml_literal(node);
  }
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  return reflected_crc32<0x82F63B78u>(static_cast<const uint8_t*>(data), size);
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

HParams hparams_from_config(const Config& config) {
  HParams out;
  collect_hparams(config.table(), "", out);
  return out;
}

EventFileWriter::EventFileWriter(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    throw UserError(dir.string() + ": cannot create the TensorBoard folder: " + error.message());
  const std::string base = "events.out.tfevents." +
                           std::to_string(static_cast<int64_t>(now_seconds())) + "." + host_name();
  // A run resumed within the same second: the next free name (TensorBoard reads them in order).
  for (int n = 0; fd_ < 0; ++n) {
    path_ = dir / (n == 0 ? base : base + "." + std::to_string(n));
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno == EEXIST && n < 1000) continue;
    if (fd_ < 0)
      throw UserError(path_.string() +
                      ": cannot create the TensorBoard event file: " + std::strerror(errno));
  }
  write_event(event_at(0).bytes(event::kFileVersion, "brain.Event:2").data());
}

EventFileWriter::~EventFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void EventFileWriter::write_event(const std::string& event) {
  append_whole(fd_, path_, record(event));
}

void EventFileWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  ProtoMessage v;
  v.bytes(summary_value::kTag, tag)
      .float_field(summary_value::kSimpleValue, static_cast<float>(value));
  write_event(summary_event(v, step));
}

void EventFileWriter::add_image(const std::string& tag, const std::string& png, int width,
                                int height, int64_t step) {
  ProtoMessage img;
  img.varint(image::kHeight, static_cast<uint64_t>(height))
      .varint(image::kWidth, static_cast<uint64_t>(width))
      .varint(image::kColorspace, image::kRgb)
      .bytes(image::kEncoded, png);
  ProtoMessage v;
  v.bytes(summary_value::kTag, tag).message(summary_value::kImage, img);
  write_event(summary_event(v, step));
}

void EventFileWriter::add_audio(const std::string& tag, const std::string& wav, int sample_rate,
                                int64_t frames, int64_t step) {
  ProtoMessage clip;
  clip.float_field(audio::kSampleRate, static_cast<float>(sample_rate))
      .varint(audio::kChannels, 1)
      .varint(audio::kFrames, static_cast<uint64_t>(frames))
      .bytes(audio::kEncoded, wav)
      .bytes(audio::kContentType, "audio/wav");
  ProtoMessage v;
  v.bytes(summary_value::kTag, tag).message(summary_value::kAudio, clip);
  write_event(summary_event(v, step));
}

void EventFileWriter::add_hparams(const HParams& values, const std::string& model_uri,
                                  double start_time) {
  ProtoMessage start;
  for (const auto& [name, v] : values)
    start.message(
        hparams::kStartHParams,
        ProtoMessage().bytes(hparams::kMapKey, name).message(hparams::kMapValue, google_value(v)));
  if (!model_uri.empty()) start.bytes(hparams::kStartModelUri, model_uri);
  start.double_field(hparams::kStartTime, start_time > 0 ? start_time : now_seconds());
  write_event(hparams_event("_hparams_/session_start_info", hparams::kSessionStart, start));
}

void EventFileWriter::add_hparams_experiment(const HParams& values,
                                             const std::vector<std::string>& metric_tags) {
  ProtoMessage experiment;
  experiment.double_field(hparams::kExperimentTime, now_seconds());
  for (const auto& [name, v] : values) {
    ProtoMessage info;
    info.bytes(hparams::kInfoName, name);
    if (std::holds_alternative<double>(v)) {
      info.varint(hparams::kInfoType, hparams::kTypeFloat64);
    } else {
      info.varint(hparams::kInfoType,
                  std::holds_alternative<bool>(v) ? hparams::kTypeBool : hparams::kTypeString);
      info.message(hparams::kInfoDomainDiscrete,
                   ProtoMessage().message(hparams::kListValues, google_value(v)));
    }
    experiment.message(hparams::kHParamInfos, info);
  }
  for (const std::string& tag : metric_tags)
    experiment.message(hparams::kMetricInfos,
                       ProtoMessage().message(hparams::kMetricName,
                                              ProtoMessage().bytes(hparams::kMetricTag, tag)));
  write_event(hparams_event("_hparams_/experiment", hparams::kExperiment, experiment));
}

void EventFileWriter::add_session_end(SessionStatus status, double end_time) {
  ProtoMessage end;
  end.varint(hparams::kEndStatus, static_cast<uint64_t>(status))
      .double_field(hparams::kEndTime, end_time > 0 ? end_time : now_seconds());
  write_event(hparams_event("_hparams_/session_end_info", hparams::kSessionEnd, end));
}

void EventFileWriter::add_session_start(int64_t step) {
  write_event(event_at(step)
                  .message(event::kSessionLog,
                           ProtoMessage().varint(session_log::kStatus, session_log::kStart))
                  .data());
}

}  // namespace mlq
