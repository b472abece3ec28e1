#include "models/classifier.hpp"

#include <fmt/format.h>

namespace mlq::classification {
namespace {

constexpr int64_t kNameBytes = 8192;

}  // namespace

Classifier::Classifier() {
  names_ = register_buffer("class_names", torch::zeros({kNameBytes}, torch::kUInt8));
}

void Classifier::set_class_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : "\n") + name;
  if (static_cast<int64_t>(joined.size()) >= kNameBytes)
    throw UserError(fmt::format("{} class names take {} bytes; a model keeps at most {}",
                                names.size(), joined.size(), kNameBytes - 1));
  torch::NoGradGuard no_grad;
  names_.zero_();
  auto bytes = names_.accessor<uint8_t, 1>();
  for (size_t i = 0; i < joined.size(); ++i) bytes[static_cast<int64_t>(i)] = joined[i];
}

namespace {

std::vector<std::string> decode_names(const torch::Tensor& buffer) {
  const torch::Tensor bytes = buffer.to(torch::kCPU).contiguous();
  const auto* data = bytes.data_ptr<uint8_t>();
  std::string joined(reinterpret_cast<const char*>(data),
                     strnlen(reinterpret_cast<const char*>(data), bytes.numel()));
  std::vector<std::string> names;
  if (!joined.empty()) names = split(joined, '\n');
  return names;
}

}  // namespace

std::vector<std::string> Classifier::class_names() const {
  return decode_names(names_);
}

std::vector<std::string> checkpoint_class_names(const std::filesystem::path& checkpoint) {
  torch::serialize::InputArchive archive, model;
  torch::Tensor buffer;
  try {
    archive.load_from(checkpoint.string());
  } catch (const std::exception&) {
    throw UserError(checkpoint.string() + ": not a readable checkpoint");
  }
  if (!archive.try_read("model", model) || !model.try_read("class_names", buffer, true))
    throw UserError(checkpoint.string() + ": the checkpoint's model keeps no class names");
  std::vector<std::string> names = decode_names(buffer);
  if (names.size() < 2)
    throw UserError(checkpoint.string() + ": the checkpoint's model keeps no class names");
  return names;
}

int64_t model_classes(const Config& c) {
  if (!c.has("classes"))
    throw ConfigError(
        "config key 'model.classes': expected the number of classes (the "
        "classification task sets it from the data)");
  return c.get_int("classes", 2, Range::at_least(2));
}

InputNorm::InputNorm(int64_t bands) {
  norm_ = register_module("norm", torch::nn::BatchNorm2d(bands));
}

torch::Tensor InputNorm::forward(const torch::Tensor& features) {
  // [B, T, F] -> [B, F, T, 1] so the norm's channels are the bands, then back as [B, 1, T, F].
  return norm_->forward(features.transpose(1, 2).unsqueeze(3))
      .squeeze(3)
      .transpose(1, 2)
      .unsqueeze(1);
}

}  // namespace mlq::classification
