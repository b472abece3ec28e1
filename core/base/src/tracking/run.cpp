#include "mlq/tracking/run.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/text.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

std::string new_run_id() {
  std::random_device device;
  std::mt19937_64 generator((static_cast<uint64_t>(device()) << 32) ^ device() ^ getpid());
  return fmt::format("{:08x}", static_cast<uint32_t>(generator()));
}

std::string local_time(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, format, &local);
  return text;
}

// Output of a short shell command ("" on failure), first line only.
std::string command_output(const char* command) {
  std::string out;
  if (FILE* pipe = popen(command, "r")) {
    std::array<char, 256> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe)) out += buffer.data();
    if (pclose(pipe) != 0) return "";
  }
  return trim(out.substr(0, out.find('\n')));
}

}  // namespace

Run::Run(Manifest& manifest, std::string id, fs::path dir)
    : manifest_(&manifest), id_(std::move(id)), dir_(std::move(dir)) {}

Run Run::create(Manifest& manifest, const Config& config, const std::vector<std::string>& overrides,
                const std::string& plugin_versions) {
  const std::string task = config.get_string("task");
  const std::string id = new_run_id();
  fs::path dir =
      output_root(config) / task / local_time("%Y-%m-%d") / (local_time("%H-%M-%S") + "-" + id);
  fs::create_directories(dir / "checkpoints");
  write_file_atomic(dir / "config.toml", config.to_toml());
  std::string override_lines;
  for (const auto& text : overrides) override_lines += text + "\n";
  write_file_atomic(dir / "overrides.txt", override_lines);

  RunRecord record;
  record.id = id;
  record.task = task;
  record.start_time = record.heartbeat = now_seconds();
  record.host = host_name();
  record.pid = getpid();
  record.git_commit = command_output("git rev-parse HEAD 2>/dev/null");
  record.git_dirty = !record.git_commit.empty() &&
                     !command_output("git status --porcelain -uno 2>/dev/null").empty();
  record.plugin_versions = plugin_versions;
  record.run_dir = fs::absolute(dir).string();
  record.config_hash = config_hash(config);
  record.config_toml = config.to_toml();
  manifest.create_run(record, config.flatten());
  // [tags] label a run (tags.baseline = "yes"); they are not part of the experiment's identity.
  for (const auto& key : config.keys("tags"))
    manifest.set_tag(id, key,
                     config.table().at_path("tags." + key).is_string()
                         ? config.get_string("tags." + key)
                         : toml_literal(*config.table().at_path("tags." + key).node()));
  return Run(manifest, id, fs::absolute(dir));
}

std::optional<Run> Run::reopen(Manifest& manifest, const RunRecord& record) {
  if (!manifest.reopen_run(record.id, getpid())) return std::nullopt;
  return Run(manifest, record.id, record.run_dir);
}

void Run::finish(const std::string& status, const std::string& multi_line_error) {
  std::string error = multi_line_error;
  std::replace(error.begin(), error.end(), '\n', ' ');
  manifest_->set_status(id_, status, error);
  auto record = manifest_->find_run(id_);
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  for (const auto& [key, value] : manifest_->last_metrics(id_)) metrics[key] = value;
  const nlohmann::ordered_json summary{
      {"id", id_},          {"task", record->task},         {"status", status},
      {"error", error},     {"run_dir", dir_.string()},     {"model_path", record->best_checkpoint},
      {"metrics", metrics}, {"config", record->config_toml}};
  const std::string json =
      summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  write_file_atomic(dir_ / "manifest.json", json);
  register_artifacts();
}

void Run::register_artifacts() const {
  std::vector<Artifact> artifacts;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path relative = fs::relative(it->path(), dir_);
    if (relative.filename().string().find(".tmp-") != std::string::npos)
      continue;  // a file being written (write_file_atomic's temporary)
    const std::string kind = artifact_kind(relative);
    artifacts.push_back({relative.string(), kind, kind == "log" ? "" : file_checksum(it->path())});
  }
  if (ec)
    throw UserError(
        fmt::format("{}: cannot list the run directory: {}", dir_.string(), ec.message()));
  std::sort(artifacts.begin(), artifacts.end(),
            [](const Artifact& a, const Artifact& b) { return a.path < b.path; });
  manifest_->set_artifacts(id_, artifacts);
}

std::string artifact_kind(const fs::path& relative_path) {
  const std::string top = relative_path.begin()->string();
  const std::string name = relative_path.filename().string();
  const std::string ext = relative_path.extension().string();
  if (top == "checkpoints") return "checkpoint";
  if (top == "tb") return "tensorboard";
  if (ext == ".png" || ext == ".svg" || ext == ".jpg") return "image";
  if (ext == ".wav" || ext == ".flac" || ext == ".ogg" || ext == ".mp3") return "audio";
  if (ext == ".mid" || ext == ".midi") return "midi";
  if (name == "metrics.csv") return "metrics";
  if (name == "run.log") return "log";
  if (name == "config.toml" || name == "overrides.txt") return "config";
  if (name == "manifest.json") return "summary";
  return "other";
}

fs::path output_root(const Config& config) {
  return config.get_string("output_dir", "outputs");
}

fs::path manifest_path(const Config& config) {
  if (config.has("manifest.db")) return config.get_string("manifest.db");
  if (const char* env = std::getenv("MLQ_DB")) return env;
  return output_root(config) / "runs.sqlite";
}

fs::path manifest_path(const std::string& db_flag) {
  if (!db_flag.empty()) return db_flag;
  if (const char* env = std::getenv("MLQ_DB")) return env;
  return fs::path("outputs") / "runs.sqlite";
}

std::string config_hash(const Config& config) {
  std::string text;
  for (const auto& [key, value] : config.flatten())
    if (key != "trainer.resume" && key.rfind("tags.", 0) != 0) text += key + "=" + value + "\n";
  return hash_hex(text);
}

}  // namespace mlq
