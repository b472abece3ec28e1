// Trainer checkpoints: model (and, with trainer.ema_decay, the averaged weights), optimiser, step,
// loader position, RNG state, callback state, the resolved config and its hash. Written to a
// temporary file, synced and renamed.
#include <fcntl.h>
#include <torch/torch.h>
#include <unistd.h>

#include <boost/dll/alias.hpp>
#include <cerrno>
#include <cstring>

#include "mlq/tracking/checkpoint_header.hpp"
#include "mlq/train/checkpoint.hpp"
#include "mlq/train/trainer.hpp"
#include "mlq/util/files.hpp"
#include "trainer/weight_average.hpp"

namespace mlq {
namespace {

constexpr int64_t kCheckpointFormat = 1;

torch::serialize::InputArchive open_archive(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw UserError(path.string() + ": checkpoint not found");
  check_checkpoint_header(path);  // a torn or foreign file is named before LibTorch parses it
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const std::exception&) {
    throw UserError(path.string() +
                    ": not a readable checkpoint (truncated or not written by mlq)");
  }
  return archive;
}

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& key,
                       const std::filesystem::path& path) {
  c10::IValue value;
  if (!archive.try_read(key, value))
    throw UserError(path.string() + ": checkpoint has no '" + key + "' entry");
  return value;
}

std::string shape_text(const torch::Tensor& tensor) {
  std::string text = "[";
  for (int64_t i = 0; i < tensor.dim(); ++i)
    text += (i ? ", " : "") + std::to_string(tensor.size(i));
  return text + "]";
}

// Module::load would silently replace a tensor of another shape; this copies each parameter and
// buffer into the model only after checking that it exists with the same shape.
void load_strict(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                 const std::string& prefix, const std::filesystem::path& path) {
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& name, torch::Tensor& target, bool is_buffer) {
    torch::Tensor stored;
    if (!archive.try_read(name, stored, is_buffer))
      throw UserError(path.string() + ": weights do not fit the configured model (no '" + prefix +
                      name + "' in the checkpoint)");
    if (!stored.sizes().equals(target.sizes()))
      throw UserError(path.string() + ": weights do not fit the configured model ('" + prefix +
                      name + "' is " + shape_text(stored) + " in the checkpoint, " +
                      shape_text(target) + " in the model)");
    target.copy_(stored);
  };
  for (auto& parameter : module.named_parameters(/*recurse=*/false))
    copy(parameter.key(), parameter.value(), false);
  for (auto& buffer : module.named_buffers(/*recurse=*/false))
    copy(buffer.key(), buffer.value(), true);
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive))
      throw UserError(path.string() + ": weights do not fit the configured model (no module '" +
                      prefix + child.key() + "' in the checkpoint)");
    load_strict(*child.value(), child_archive, prefix + child.key() + ".", path);
  }
}

}  // namespace

Config checkpoint_config(const std::filesystem::path& path) {
  auto archive = open_archive(path);
  const std::string text = read_value(archive, "config", path).toStringRef();
  try {
    return Config(toml::parse(text), {});
  } catch (const toml::parse_error& e) {
    throw UserError(path.string() + ": the checkpoint's config does not parse (" +
                    std::string(e.description()) + ")");
  }
}

void load_model_weights(torch::nn::Module& model, const std::filesystem::path& path) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive model_archive;
  if (!archive.try_read("model", model_archive))
    throw UserError(path.string() + ": checkpoint has no model weights");
  load_strict(model, model_archive, "", path);
}

void Trainer::save_checkpoint(const std::filesystem::path& path) {
  if (!is_global_zero()) return;
  setup();
  // Metrics up to this step must be durable before a checkpoint claims the step: a resumed run
  // only recomputes what comes after it.
  flush_metrics();
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(kCheckpointFormat));
  // "model" holds the weights to use: the averaged ones when averaging, and then
  // "training_model" the ones training goes on from.
  torch::serialize::OutputArchive model_archive;
  if (weight_average_) {
    torch::serialize::OutputArchive training_archive;
    model_->save(training_archive);
    archive.write("training_model", training_archive);
    weight_average_->save(*model_, model_archive);
  } else {
    model_->save(model_archive);
  }
  archive.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer_->save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("step", c10::IValue(step_));
  archive.write("epoch", c10::IValue(loader_->position().epoch));
  archive.write("epoch_batch", c10::IValue(loader_->position().batch));
  archive.write("nonfinite_count", c10::IValue(nonfinite_count_));
  auto generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("rng_cpu", generator.get_state());
  }
  archive.write("config", c10::IValue(config_.to_toml()));
  archive.write("config_hash", c10::IValue(config_hash(config_)));
  for (const auto& callback : callbacks_)
    archive.write("callback." + callback->name(), c10::IValue(callback->state()));
  // Written by us, through a callback that never reports a failure to LibTorch: its writer throws
  // from its destructor when a write fails (a full disk), which ends the process. The first
  // error is kept, later writes are skipped, and it is reported once the archive is complete.
  replace_file_atomic(path, [&](const std::filesystem::path& temporary) {
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw UserError(path.string() + ": cannot write: " + std::strerror(errno));
    int error = 0;
    try {
      archive.save_to([&](const void* data, size_t size) {
        if (error == 0) error = write_all(fd, {static_cast<const char*>(data), size});
        return size;
      });
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) throw UserError(path.string() + ": cannot write: " + std::strerror(error));
  });
}

void Trainer::load_checkpoint(const std::filesystem::path& path) {
  setup();
  auto archive = open_archive(path);
  load_weights(path);
  if (weight_average_) weight_average_->reset_to(*model_);
  torch::serialize::InputArchive training_archive;
  if (archive.try_read("training_model", training_archive))
    load_strict(*model_, training_archive, "", path);
  torch::serialize::InputArchive optimizer_archive;
  if (!archive.try_read("optimizer", optimizer_archive))
    throw UserError(path.string() + ": checkpoint has no optimizer state");
  optimizer_->load(optimizer_archive);
  step_ = read_value(archive, "step", path).toInt();
  loader_->seek({read_value(archive, "epoch", path).toInt(),
                 read_value(archive, "epoch_batch", path).toInt()});
  nonfinite_count_ = read_value(archive, "nonfinite_count", path).toInt();
  torch::Tensor rng;
  archive.read("rng_cpu", rng);
  auto generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  }
  for (const auto& callback : callbacks_) {
    c10::IValue state;
    if (archive.try_read("callback." + callback->name(), state))
      callback->load_state(state.toStringRef());
  }
}

void Trainer::load_weights(const std::filesystem::path& path) {
  setup();
  load_model_weights(*model_, path);
}

}  // namespace mlq

BOOST_DLL_ALIAS(mlq::checkpoint_config, mlq_checkpoint_config)
